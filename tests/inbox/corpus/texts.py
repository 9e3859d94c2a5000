"""Wording banks for make_corpus.py: what companies' mail says, per language.

Written from what real replies look like (help-desk notifications, webmail answers,
WordPress / CRM auto-responders, out-of-office notes, DSNs, newsletters), not from the
classifier's phrase lists. ``{company}``, ``{price}``, ``{ticket}`` ... are filled in by
make_corpus.py.
"""

from __future__ import annotations

LANGS = ("en", "he", "ar", "ru", "fr", "de")

PERSONA = {
    "en": "Dana Cohen",
    "he": "דנה כהן",
    "ar": "دانة كوهين",
    "ru": "Дана Коэн",
    "fr": "Dana Cohen",
    "de": "Dana Cohen",
}
PHONE = "050-555-0134"

# What we sent: subject and message (the values stored with the submission).
SENT_SUBJECT = {
    "en": "Question about your services (ref {ref})",
    "he": "שאלה לגבי השירותים שלכם ({ref})",
    "ar": "استفسار عن خدماتكم ({ref})",
    "ru": "Вопрос о ваших услугах ({ref})",
    "fr": "Question sur vos services ({ref})",
    "de": "Frage zu Ihren Leistungen ({ref})",
}
INQUIRY = {
    "en": "Hello,\n\nI am interested in your services and would like to know how I can open "
    "an account,\nwhat it costs per month, and whether there is a discount for new customers."
    "\nCould you please get back to me by e-mail?\n\nThank you,\n{name}\n{phone}\n\n"
    "Reference: {ref}",
    "he": "שלום,\n\nאני מתעניינת בשירותים שלכם ואשמח לדעת איך אפשר לפתוח חשבון, כמה זה עולה "
    "בחודש\nוהאם יש הנחה ללקוחות חדשים.\nאשמח אם תחזרו אליי במייל.\n\nתודה,\n{name}\n{phone}"
    "\n\nמספר אסמכתא: {ref}",
    "ar": "مرحبًا،\n\nأنا مهتمة بخدماتكم وأود أن أعرف كيف يمكنني فتح حساب، وكم تبلغ التكلفة "
    "الشهرية،\nوهل هناك خصم للعملاء الجدد.\nهل يمكنكم الرد علي عبر البريد الإلكتروني؟\n\n"
    "شكرًا،\n{name}\n{phone}\n\nالرقم المرجعي: {ref}",
    "ru": "Здравствуйте!\n\nМеня интересуют ваши услуги. Подскажите, пожалуйста, как открыть "
    "счёт,\nсколько это стоит в месяц и есть ли скидка для новых клиентов.\nОтветьте мне, "
    "пожалуйста, по электронной почте.\n\nСпасибо,\n{name}\n{phone}\n\nНомер обращения: {ref}",
    "fr": "Bonjour,\n\nVos services m'intéressent et j'aimerais savoir comment ouvrir un compte,"
    "\ncombien cela coûte par mois et s'il existe une remise pour les nouveaux clients.\n"
    "Pourriez-vous me répondre par e-mail ?\n\nMerci,\n{name}\n{phone}\n\nRéférence : {ref}",
    "de": "Guten Tag,\n\nich interessiere mich für Ihre Leistungen und möchte wissen, wie ich "
    "ein Konto eröffnen kann,\nwas es pro Monat kostet und ob es einen Rabatt für Neukunden "
    "gibt.\nKönnten Sie mir bitte per E-Mail antworten?\n\nVielen Dank\n{name}\n{phone}\n\n"
    "Referenz: {ref}",
}

CURRENCY = {"en": "${p}", "he": '{p} ש"ח', "ar": "{p} شيكل", "ru": "{p} ₽", "fr": "{p} €",
            "de": "{p} €"}  # fmt: skip

# -- human answers ----------------------------------------------------------------------
GREETING = {
    "en": ["Hi Dana,", "Hello Dana,", "Dear Dana,", "Dear Ms. Cohen,", "Dana,"],
    "he": ["היי דנה,", "שלום דנה,", "דנה שלום,", "שלום רב,", "דנה היקרה,"],
    "ar": ["مرحبًا دانة،", "السيدة دانة المحترمة،", "أهلًا دانة،"],
    "ru": ["Здравствуйте, Дана!", "Добрый день, Дана!", "Дана, добрый день."],
    "fr": ["Bonjour Dana,", "Bonjour Madame Cohen,", "Madame,"],
    "de": ["Hallo Frau Cohen,", "Sehr geehrte Frau Cohen,", "Guten Tag Frau Cohen,"],
}
# Polite openers that help-desk agents put before a real answer.
COURTESY = {
    "en": [
        "Thank you for contacting {company}.",
        "Thanks for reaching out to {company}!",
        "Thank you for your message and your interest in {company}.",
        "Thank you for contacting {company} Customer Service.",
    ],
    "he": ["תודה שפנית ל{company}.", "תודה על פנייתך.", "תודה על ההתעניינות ב{company}."],
    "ar": ["شكرًا لتواصلك مع {company}.", "نشكرك على اهتمامك بخدمات {company}."],
    "ru": ["Спасибо, что обратились в {company}.", "Благодарим за интерес к {company}."],
    "fr": ["Merci d'avoir contacté {company}.", "Nous vous remercions de votre intérêt pour {company}."],
    "de": ["vielen Dank, dass Sie sich an {company} gewandt haben.", "danke für Ihr Interesse an {company}."],
}  # fmt: skip
ANSWER = {
    "en": [
        "You can open an account online in about ten minutes; all you need is an ID and a "
        "credit card. The basic plan is {price} per month and new customers get the first "
        "three months free.",
        "The monthly fee depends on the package: Basic is {price} and Premium is {price2}. "
        "For new customers we currently offer 20% off for the first year. I have attached "
        "our price list.",
        "To open an account please bring an ID to any of our branches, or use the app. There "
        "is no monthly fee for the first year; after that it is {price} a month.",
        "Unfortunately we don't run a new-customer discount at the moment, but the standard "
        "plan at {price} a month includes everything you asked about. Is this for a private "
        "or a business account?",
        "Happy to help. Roughly how many users would you need? Our prices start at {price} "
        "per user per month and I can put a quote together for you today.",
        "Yes, there is a welcome offer: the first month is free and then it's {price} per "
        "month, no commitment. You can sign up at our website or I can open it for you over "
        "the phone.",
    ],
    "he": [
        "אפשר לפתוח חשבון אונליין תוך כעשר דקות עם תעודת זהות. דמי הניהול הם {price} "
        "לחודש, ולקוחות חדשים פטורים מהם בחצי השנה הראשונה.",
        "המחיר תלוי במסלול: מסלול בסיסי עולה {price} לחודש ומסלול מורחב {price2}. כרגע יש "
        "הנחה של 15% ללקוחות חדשים בשנה הראשונה.",
        "כדי לפתוח חשבון צריך להגיע לאחד הסניפים עם תעודה מזהה, או להוריד את האפליקציה. "
        "בשנה הראשונה אין עמלה חודשית, ואחר כך {price} לחודש.",
        "לצערי אין כרגע מבצע ללקוחות חדשים, אבל החבילה הרגילה ב-{price} לחודש כוללת את כל "
        "מה ששאלת. מדובר בחשבון פרטי או עסקי?",
        "בשמחה. כמה משתמשים תצטרכי? המחירים שלנו מתחילים ב-{price} למשתמש לחודש, ואוכל "
        "להכין לך הצעת מחיר עוד היום.",
        "יש לנו הטבת הצטרפות: החודש הראשון חינם ואחריו {price} לחודש, בלי התחייבות. אפשר "
        "להצטרף באתר או שאפתח לך את החשבון בטלפון.",
    ],
    "ar": [
        "يمكنك فتح حساب عبر الإنترنت خلال عشر دقائق تقريبًا باستخدام بطاقة الهوية. الرسوم "
        "الشهرية {price}، والعملاء الجدد معفون منها في الأشهر الستة الأولى.",
        "السعر يعتمد على الباقة: الباقة الأساسية {price} شهريًا والباقة المميزة {price2}. "
        "حاليًا نقدم خصمًا بنسبة 15% للعملاء الجدد في السنة الأولى.",
        "لفتح حساب يرجى زيارة أحد فروعنا مع بطاقة الهوية أو استخدام التطبيق. لا توجد رسوم "
        "شهرية في السنة الأولى، وبعدها {price} شهريًا.",
        "للأسف لا يوجد حاليًا عرض للعملاء الجدد، لكن الباقة العادية بسعر {price} شهريًا تشمل "
        "كل ما سألت عنه. هل الحساب شخصي أم تجاري؟",
    ],
    "ru": [
        "Открыть счёт можно онлайн примерно за десять минут, нужен только паспорт. "
        "Обслуживание стоит {price} в месяц, а для новых клиентов первые полгода бесплатно.",
        "Стоимость зависит от тарифа: «Базовый» — {price} в месяц, «Расширенный» — {price2}. "
        "Сейчас для новых клиентов действует скидка 15% на первый год.",
        "Чтобы открыть счёт, приходите в любое наше отделение с документом или скачайте "
        "приложение. В первый год ежемесячной платы нет, затем {price} в месяц.",
        "К сожалению, сейчас акций для новых клиентов нет, но стандартный тариф за {price} в "
        "месяц включает всё, о чём вы спрашивали. Счёт нужен для частного лица или компании?",
    ],
    "fr": [
        "Vous pouvez ouvrir un compte en ligne en une dizaine de minutes avec une pièce "
        "d'identité. Les frais sont de {price} par mois, et les nouveaux clients en sont "
        "exonérés pendant les six premiers mois.",
        "Le tarif dépend de la formule : Essentiel à {price} par mois, Premium à {price2}. "
        "Nous proposons actuellement 15 % de remise aux nouveaux clients la première année.",
        "Pour ouvrir un compte, rendez-vous dans l'une de nos agences avec une pièce "
        "d'identité ou utilisez l'application. Pas de frais mensuels la première année, puis "
        "{price} par mois.",
        "Nous n'avons malheureusement pas d'offre de bienvenue en ce moment, mais la formule "
        "standard à {price} par mois couvre tout ce que vous demandez. S'agit-il d'un compte "
        "personnel ou professionnel ?",
    ],
    "de": [
        "Sie können ein Konto in etwa zehn Minuten online eröffnen, Sie benötigen nur Ihren "
        "Ausweis. Die Kontoführung kostet {price} im Monat, Neukunden zahlen in den ersten "
        "sechs Monaten nichts.",
        "Der Preis hängt vom Tarif ab: Basis kostet {price} pro Monat, Premium {price2}. "
        "Neukunden erhalten derzeit 15 % Rabatt im ersten Jahr.",
        "Für die Kontoeröffnung kommen Sie bitte mit einem Ausweis in eine unserer Filialen "
        "oder nutzen Sie die App. Im ersten Jahr fällt keine Monatsgebühr an, danach {price} "
        "im Monat.",
        "Einen Neukundenrabatt bieten wir derzeit leider nicht an, aber der Standardtarif für "
        "{price} im Monat enthält alles, wonach Sie gefragt haben. Geht es um ein Privat- "
        "oder ein Geschäftskonto?",
    ],
}
# Closing lines of a human answer; some promise a follow-up, as people do.
CLOSER = {
    "en": [
        "Let me know if you have any other questions.",
        "If you like, I can call you tomorrow morning to go through it.",
        "We will get back to you with the full offer by Thursday.",
        "Feel free to call me directly on 03-555-{n}.",
        "",
    ],
    "he": [
        "אם יש שאלות נוספות, אני כאן.",
        "נשמח לתאם שיחה כדי להסביר את כל הפרטים.",
        "נבדוק את האפשרויות ונחזור אליך.",
        "אפשר להתקשר אליי ישירות ל-03-555{n}.",
        "אם תרצי, נשמח לתאם שיחה קצרה מחר בבוקר ונחזור אלייך עם הצעה מסודרת.",
        "",
    ],
    "ar": ["إذا كان لديك أي سؤال آخر فأنا في الخدمة.", "يسعدنا ترتيب مكالمة لشرح التفاصيل.",
           "سنعود إليك بالعرض الكامل يوم الخميس.", ""],
    "ru": ["Если будут вопросы, пишите.", "Могу позвонить вам завтра и всё подробно рассказать.",
           "Мы свяжемся с вами, как только подготовим предложение.", ""],
    "fr": ["N'hésitez pas si vous avez d'autres questions.",
           "Je peux vous appeler demain pour en parler.",
           "Nous reviendrons vers vous avec une offre détaillée d'ici jeudi.", ""],
    "de": ["Bei weiteren Fragen melden Sie sich gern.",
           "Gerne rufe ich Sie morgen an und erkläre Ihnen alles.",
           "Wir melden uns bis Donnerstag mit einem ausführlichen Angebot bei Ihnen.", ""],
}  # fmt: skip
# Short answers people send from their phone.
SHORT_ANSWER = {
    "en": ["Hi Dana, easiest is to call me on 03-555-{n}, I'll explain everything. {first}",
           "Dana - {price}/month, first month free. Want me to open it for you? {first}"],
    "he": ["היי דנה, הכי פשוט שתתקשרי אליי ל-03-555{n} ואסביר הכל. {first}",
           "דנה, {price} לחודש והחודש הראשון חינם. לפתוח לך? {first}"],
    "ar": ["مرحبًا دانة، الأسهل أن تتصلي بي على 03-555{n} وسأشرح لك كل شيء. {first}"],
    "ru": ["Дана, проще всего позвоните мне по номеру 03-555{n}, я всё объясню. {first}"],
    "fr": ["Bonjour Dana, le plus simple est de m'appeler au 03 55 5{n}, je vous explique tout. {first}"],
    "de": ["Hallo Frau Cohen, am einfachsten rufen Sie mich unter 03-555{n} an, dann erkläre ich Ihnen alles. {first}"],
}  # fmt: skip
SIGNOFF = {
    "en": ["Best regards,", "Kind regards,", "Thanks,", "Cheers,", "Best,"],
    "he": ["בברכה,", "תודה,", "יום נעים,", "בברכה"],
    "ar": ["مع أطيب التحيات،", "مع الشكر،"],
    "ru": ["С уважением,", "Всего доброго,"],
    "fr": ["Cordialement,", "Bien à vous,", "Bien cordialement,"],
    "de": ["Mit freundlichen Grüßen", "Viele Grüße", "Beste Grüße"],
}
AGENTS = {
    "en": ["Sarah Miller", "James Carter", "Emily Brown", "Michael Green", "Olivia Hughes"],
    "he": ["מיכל לוי", "יוסי אברהם", "נועה פרידמן", "אבי מזרחי", "רונית שפירא"],
    "ar": ["سارة حداد", "محمد خليل", "ليلى منصور"],
    "ru": ["Анна Смирнова", "Игорь Петров", "Ольга Кузнецова"],
    "fr": ["Claire Martin", "Julien Bernard", "Sophie Laurent"],
    "de": ["Anna Schmidt", "Thomas Becker", "Julia Wagner"],
}
TITLE = {
    "en": ["Customer Success Manager", "Sales Representative", "Customer Support", "Account Executive"],
    "he": ["נציגת שירות לקוחות", "מנהל תיקי לקוחות", "מחלקת מכירות"],
    "ar": ["خدمة العملاء", "قسم المبيعات"],
    "ru": ["Служба поддержки клиентов", "Менеджер по продажам"],
    "fr": ["Service client", "Conseiller commercial"],
    "de": ["Kundenservice", "Vertrieb"],
}  # fmt: skip

# -- acknowledgements -------------------------------------------------------------------
ACK = {
    "en": [
        "Thank you for contacting {company}. We have received your message and one of our "
        "representatives will get back to you within 2 business days.",
        "Your request ({ticket}) has been received and is being reviewed by our support staff.",
        "Thanks for getting in touch! This is an automated response to let you know we got "
        "your message. We'll be in touch shortly.",
        "We've received your enquiry and created case number {ticket}. Please keep this "
        "number for future reference. Our team will respond as soon as possible.",
        "Thank you for your message. A member of our team will contact you shortly.",
    ],
    "he": [
        "תודה על פנייתך ל{company}. פנייתך התקבלה ונציג מטעמנו יחזור אלייך בהקדם.",
        "ההודעה שלך התקבלה. נציג ייצור איתך קשר בהקדם.",
        "קיבלנו את פנייתך ונחזור אליך תוך 2 ימי עסקים. מספר הפנייה שלך: {ticket}.",
        "פנייתך נקלטה במערכת בהצלחה. צוות שירות הלקוחות יטפל בה בהקדם האפשרי.",
        "תודה שפנית אלינו! פנייתך מספר {ticket} התקבלה ותטופל בהקדם.",
    ],
    "ar": [
        "شكرًا لتواصلك مع {company}. تم استلام رسالتك وسيقوم أحد ممثلينا بالرد عليك في أقرب "
        "وقت ممكن.",
        "تم استلام طلبك برقم {ticket}. سنتواصل معك خلال يومي عمل.",
        "نشكرك على رسالتك. لقد استلمنا استفسارك وسيتواصل معك فريقنا قريبًا.",
    ],
    "ru": [
        "Спасибо за обращение в {company}! Мы получили ваше сообщение и ответим вам в "
        "ближайшее время.",
        "Ваше обращение зарегистрировано под номером {ticket}. Специалист свяжется с вами в "
        "течение двух рабочих дней.",
        "Благодарим вас за письмо. Ваш запрос принят, наш менеджер скоро свяжется с вами.",
    ],
    "fr": [
        "Merci d'avoir contacté {company}. Nous avons bien reçu votre message et un conseiller "
        "vous répondra dans les plus brefs délais.",
        "Votre demande n° {ticket} a bien été enregistrée. Nous vous répondrons sous 48 heures "
        "ouvrées.",
        "Nous accusons réception de votre message et reviendrons vers vous rapidement.",
    ],
    "de": [
        "vielen Dank für Ihre Nachricht an {company}. Wir haben Ihre Anfrage erhalten und "
        "melden uns schnellstmöglich bei Ihnen.",
        "Ihre Anfrage wurde unter der Ticketnummer {ticket} erfasst. Wir melden uns innerhalb "
        "von zwei Werktagen.",
        "hiermit bestätigen wir den Eingang Ihrer Nachricht. Wir werden uns in Kürze bei Ihnen "
        "melden.",
    ],
}
ACK_EXTRA = {
    "en": ["Our office hours are Monday to Friday, 9:00-17:00.",
           "In the meantime, you may find an answer in our Help Center: https://help.{domain}/",
           "Please do not reply to this email.",
           "For urgent matters call us on 1-800-555-0199."],
    "he": ["שעות הפעילות של המוקד: א'-ה' 08:00-17:00.",
           "זוהי הודעה אוטומטית, אין להשיב להודעה זו.",
           "למידע נוסף בקרו באתר: https://www.{domain}",
           "לשירות מהיר חייגו *5500."],
    "ar": ["هذه رسالة آلية، يرجى عدم الرد عليها.", "ساعات العمل: من الأحد إلى الخميس 9:00-17:00."],
    "ru": ["Это автоматическое сообщение, пожалуйста, не отвечайте на него.",
           "Часы работы: пн–пт, 9:00–18:00."],
    "fr": ["Ceci est un message automatique, merci de ne pas y répondre.",
           "Nos conseillers sont disponibles du lundi au vendredi de 9h à 18h."],
    "de": ["Dies ist eine automatisch generierte E-Mail, bitte antworten Sie nicht darauf.",
           "Unsere Servicezeiten: Mo–Fr 8–18 Uhr."],
}  # fmt: skip
ACK_SUBJECT = {
    "en": ["Request received: {subject}", "We've received your message", "[{ticket}] Ticket created",
           "Thank you for contacting {company}", "Your case {ticket} has been created"],
    "he": ["פנייתך התקבלה", "קיבלנו את פנייתך - {company}", "אישור קבלת פנייה {ticket}",
           "תודה על פנייתך"],
    "ar": ["تم استلام طلبك", "شكرًا لتواصلك مع {company}"],
    "ru": ["Ваше обращение получено", "Обращение {ticket} зарегистрировано"],
    "fr": ["Nous avons bien reçu votre demande", "Votre demande {ticket}"],
    "de": ["Ihre Anfrage ist bei uns eingegangen", "Eingangsbestätigung Ticket {ticket}"],
}  # fmt: skip

# WordPress / Contact Form 7 auto-responders: echo what the visitor typed.
WP_SUBJECT = {
    "en": ["Thank you for your message", "{company}: we got your message", "Thanks for contacting us"],
    "he": ["ההודעה שלך התקבלה", "תודה על פנייתך - {company}", "תודה שפנית אלינו"],
    "ar": ["شكرًا على رسالتك"],
    "ru": ["Спасибо за ваше сообщение"],
    "fr": ["Merci pour votre message"],
    "de": ["Vielen Dank für Ihre Nachricht"],
}  # fmt: skip
WP_INTRO = {
    "en": ["Hi {name},\n\nThank you for your message. We will get back to you as soon as possible.",
           "Dear {name},\n\nThanks for contacting us! Someone from our team will contact you shortly."],
    "he": ["שלום {name},\n\nההודעה שלך התקבלה. נציג מטעמנו ייצור איתך קשר בהקדם.",
           "היי {name},\n\nתודה שפנית אלינו! ההודעה שלך התקבלה ונחזור אלייך בהקדם האפשרי."],
    "ar": ["مرحبًا {name}،\n\nشكرًا على رسالتك. سنتواصل معك في أقرب وقت ممكن."],
    "ru": ["Здравствуйте, {name}!\n\nСпасибо за ваше сообщение. Мы свяжемся с вами в ближайшее время."],
    "fr": ["Bonjour {name},\n\nMerci pour votre message. Nous vous recontacterons très rapidement."],
    "de": ["Hallo {name},\n\nvielen Dank für Ihre Nachricht. Wir melden uns so schnell wie möglich bei Ihnen."],
}  # fmt: skip
WP_LABELS = {
    "en": ("Name", "Email", "Phone", "Your message", "Details of your message:"),
    "he": ("שם", "אימייל", "טלפון", "תוכן ההודעה", "פרטי הפנייה:"),
    "ar": ("الاسم", "البريد الإلكتروني", "الهاتف", "نص الرسالة", "تفاصيل رسالتك:"),
    "ru": ("Имя", "E-mail", "Телефон", "Сообщение", "Ваше сообщение:"),
    "fr": ("Nom", "E-mail", "Téléphone", "Message", "Récapitulatif de votre demande :"),
    "de": ("Name", "E-Mail", "Telefon", "Nachricht", "Ihre Angaben:"),
}
WP_FOOTER = {
    "en": "--\nThis e-mail was sent from a contact form on {company} (https://www.{domain})",
    "he": "--\nהודעה זו נשלחה מטופס יצירת קשר באתר {company} (https://www.{domain})",
    "ar": "--\nتم إرسال هذه الرسالة من نموذج الاتصال على موقع {company} (https://www.{domain})",
    "ru": "--\nЭто письмо отправлено с формы обратной связи сайта {company} (https://www.{domain})",
    "fr": "--\nCet e-mail a été envoyé depuis le formulaire de contact de {company} (https://www.{domain})",
    "de": "--\nDiese E-Mail wurde über das Kontaktformular von {company} (https://www.{domain}) gesendet",
}  # fmt: skip

# -- out of office ----------------------------------------------------------------------
OOO_SUBJECT = {
    "en": "Automatic reply: {subject}",
    "he": "תשובה אוטומטית: {subject}",
    "ar": "رد تلقائي: {subject}",
    "ru": "Автоматический ответ: {subject}",
    "fr": "Réponse automatique : {subject}",
    "de": "Automatische Antwort: {subject}",
}
OOO_TEXT = {
    "en": ["I am out of the office until {until} with limited access to email. For urgent "
           "matters please contact {colleague} at {colleague_mail}.",
           "Thank you for your email. I'm currently on annual leave and will return on "
           "{until}. Your message will not be forwarded."],
    "he": ["אני מחוץ למשרד עד {until} ללא גישה למייל. בעניינים דחופים ניתן לפנות ל{colleague} "
           "בכתובת {colleague_mail}.",
           "תודה על פנייתך. אני בחופשה וחוזרת ב-{until}. אענה להודעתך עם שובי."],
    "ar": ["أنا خارج المكتب حتى {until} ولا أستطيع الوصول إلى البريد الإلكتروني. للأمور "
           "العاجلة يرجى التواصل مع {colleague} على {colleague_mail}."],
    "ru": ["Я нахожусь в отпуске до {until} и не имею доступа к почте. По срочным вопросам "
           "обращайтесь к коллеге {colleague}: {colleague_mail}."],
    "fr": ["Je suis absente du bureau jusqu'au {until} avec un accès limité à mes e-mails. Pour "
           "toute urgence, merci de contacter {colleague} : {colleague_mail}."],
    "de": ["Ich bin bis zum {until} nicht im Büro und habe nur eingeschränkten Zugriff auf "
           "meine E-Mails. In dringenden Fällen wenden Sie sich bitte an {colleague} "
           "({colleague_mail})."],
}  # fmt: skip

# -- quoting ----------------------------------------------------------------------------
QUOTE_INTRO = {
    "en": "On {date}, {name} <{addr}> wrote:",
    "he": "ב-{date}, מאת {name} <{addr}>:",
    "ar": "في {date}، كتب {name} <{addr}>:",
    "ru": "{date}, {name} <{addr}> написал(а):",
    "fr": "Le {date}, {name} <{addr}> a écrit :",
    "de": "Am {date} schrieb {name} <{addr}>:",
}
OUTLOOK_HEADER = {
    "en": ("From", "Sent", "To", "Subject"),
    "he": ("מאת", "נשלח", "אל", "נושא"),
    "ar": ("من", "تاريخ الإرسال", "إلى", "الموضوع"),
    "ru": ("От", "Отправлено", "Кому", "Тема"),
    "fr": ("De", "Envoyé", "À", "Objet"),
    "de": ("Von", "Gesendet", "An", "Betreff"),
}
DISCLAIMER = {
    "en": "CONFIDENTIALITY NOTICE: This e-mail and any attachments are confidential and may "
    "be privileged. If you are not the intended recipient, please notify the sender and "
    "delete it.",
    "he": "הודעה זו והמידע המצורף אליה מיועדים לנמען בלבד ועשויים להכיל מידע חסוי. אם קיבלת "
    "הודעה זו בטעות, נא הודע לשולח ומחק אותה.",
    "ar": "هذه الرسالة ومرفقاتها سرية ومخصصة للمرسل إليه فقط. إذا وصلتك بالخطأ يرجى إبلاغ "
    "المرسل وحذفها.",
    "ru": "Данное сообщение и вложения к нему конфиденциальны. Если вы получили его по ошибке, "
    "сообщите отправителю и удалите письмо.",
    "fr": "Ce message et ses pièces jointes sont confidentiels. Si vous l'avez reçu par erreur, "
    "merci d'en avertir l'expéditeur et de le supprimer.",
    "de": "Diese E-Mail enthält vertrauliche Informationen. Wenn Sie nicht der richtige "
    "Adressat sind, informieren Sie bitte sofort den Absender und löschen Sie diese E-Mail.",
}

# -- newsletters ------------------------------------------------------------------------
NEWSLETTER = {
    "en": ("This month at {company}: 3 ways to save on fees",
           "Our winter offers are here! Get 30% off every plan until the end of the month. "
           "Read more on our blog.", "Unsubscribe | View this email in your browser"),
    "he": ("ניוזלטר {company}: מבצעי החורף כבר כאן",
           "רק החודש: 30% הנחה על כל המסלולים! כל הפרטים באתר שלנו.",
           "להסרה מרשימת התפוצה לחצו כאן"),
    "ar": ("نشرة {company}: عروض الشتاء", "خصم 30% على جميع الباقات حتى نهاية الشهر!",
           "لإلغاء الاشتراك اضغط هنا"),
    "ru": ("Новости {company}: зимние предложения", "Скидка 30% на все тарифы до конца месяца!",
           "Отписаться от рассылки"),
    "fr": ("La lettre de {company} : nos offres d'hiver",
           "-30 % sur toutes nos formules jusqu'à la fin du mois !", "Se désinscrire"),
    "de": ("{company} Newsletter: Unsere Winterangebote",
           "30 % Rabatt auf alle Tarife bis Monatsende!", "Vom Newsletter abmelden"),
}  # fmt: skip

# -- bounces ----------------------------------------------------------------------------
NDR = {
    "en": ("Undeliverable: {subject}", "Delivery has failed to these recipients or groups:",
           "The email address you entered couldn't be found."),
    "he": ("לא ניתן למסור: {subject}", "המסירה לנמענים או לקבוצות הבאים נכשלה:",
           "לא ניתן היה למצוא את כתובת הדואר האלקטרוני שהזנת."),
    "fr": ("Non remis : {subject}", "La remise a échoué pour ces destinataires ou groupes :",
           "L'adresse de messagerie que vous avez entrée est introuvable."),
    "de": ("Unzustellbar: {subject}",
           "Die Zustellung an folgende Empfänger oder Gruppen ist fehlgeschlagen:",
           "Die eingegebene E-Mail-Adresse konnte nicht gefunden werden."),
    "ru": ("Не доставлено: {subject}", "Не удалось доставить сообщение следующим получателям или группам:",
           "Не удалось найти указанный адрес электронной почты."),
    "ar": ("تعذر التسليم: {subject}", "فشل التسليم إلى هؤلاء المستلمين أو المجموعات:",
           "تعذر العثور على عنوان البريد الإلكتروني الذي أدخلته."),
}  # fmt: skip
