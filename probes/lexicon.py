"""Word lists in many languages and a matcher that understands their scripts.

Languages: English, Hebrew, French, German, Spanish, Italian, Portuguese, Russian, Arabic,
Dutch, Turkish, Japanese, Chinese. Pure data and pure functions: no browser needed.

Matching rules (see ``find``): text is normalised (NFKC, case-folded, Latin diacritics,
Hebrew points and Arabic vowel marks removed, ``_ - . / [ ]`` and camelCase split into
spaces). A phrase must start at a word start (Hebrew and Arabic allow a one-letter
prefix such as ו/ה or و/ب), may take a suffix (German compounds, plurals) unless it is
four letters or shorter, and Chinese/Japanese phrases match anywhere.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Word lists are wrapped by hand, many to a line.
# fmt: off
# ---------------------------------------------------------------------------------------
# Field roles
# ---------------------------------------------------------------------------------------
ROLE_WORDS: dict[str, tuple[str, ...]] = {
    "full_name": (
        "name", "full name", "your name", "fullname", "contact name", "contact person", "שם",
        "שם מלא", "שמך", "nom", "nom complet", "votre nom", "nom et prenom", "name und vorname",
        "vollstandiger name", "ihr name", "nombre", "nombre completo", "su nombre", "tu nombre",
        "nome", "nome completo", "il tuo nome", "seu nome", "имя", "фио", "ваше имя",
        "полное имя", "الاسم", "الاسم الكامل", "اسمك", "naam", "volledige naam", "uw naam",
        "ad soyad", "adiniz", "isim", "ad", "adınız", "お名前", "氏名", "名前", "姓名", "你的名字", "您的姓名",
        "名字", "jmeno a prijmeni", "first and last name", "first and last names",
        "first name and last name", "first last name", "cele jmeno", "vase jmeno", "imie i nazwisko",
        "nome e cognome", "cognome e nome", "nombre y apellidos", "nombre y apellido",
        "vor und nachname", "vor und zuname", "фамилия имя отчество", "фамилия и имя",
        "имя и фамилия", "фамилия имя", "ф и о", "контактное лицо", "prenom et nom",
    ),
    "first_name": (
        "first name", "firstname", "fname", "given name", "forename", "first", "שם פרטי",
        "prenom", "votre prenom", "vorname", "nombre de pila", "primer nombre", "nome proprio",
        "primeiro nome", "имя и отчество", "الاسم الأول", "الاسم الاول", "voornaam", "adı", "名",
        "given", "jmeno", "krestni jmeno", "imie",
    ),
    "last_name": (
        "last name", "lastname", "lname", "surname", "family name", "last", "שם משפחה",
        "nom de famille", "nachname", "familienname", "apellido", "apellidos", "cognome",
        "sobrenome", "apelido", "фамилия", "اسم العائلة", "الكنية", "achternaam", "soyad",
        "soyadı", "姓", "苗字", "family", "prijmeni", "nazwisko",
    ),
    "email": (
        "email", "e mail", "mail", "email address", "e mail address", "your email", "דואל",
        "דוא ל", "דואר אלקטרוני", "אימייל", "מייל", "כתובת מייל", "courriel", "adresse e mail",
        "adresse electronique", "e mail adresse", "correo", "correo electronico",
        "posta elettronica", "indirizzo email", "endereco de email", "почта",
        "электронная почта", "эл почта", "емейл", "البريد الإلكتروني", "البريد الالكتروني",
        "البريد", "e mailadres", "e posta", "eposta", "メールアドレス", "メール", "电子邮件", "邮箱", "電子郵件",
        "电邮",
    ),
    "phone": (
        "phone", "telephone", "tel", "phone number", "mobile", "cell", "cellphone",
        "mobile number", "telefone", "טלפון", "טל", "נייד", "מספר טלפון", "טלפון נייד",
        "פלאפון", "סלולרי", "numero de telephone", "portable", "telefon", "telefonnummer",
        "handy", "mobilnummer", "telefono", "movil", "celular", "cellulare",
        "numero di telefono", "телефон", "мобильный", "номер телефона", "الهاتف", "هاتف",
        "رقم الهاتف", "الجوال", "جوال", "الموبايل", "telefoonnummer", "mobiel",
        "telefon numarası", "cep telefonu", "gsm", "電話番号", "電話", "携帯", "电话", "手机", "联系电话", "手機", "telefonni cislo", "numer telefonu",
        "контактный телефон",
    ),
    "company": (
        "company", "company name", "organisation", "organization", "business name", "employer",
        "firm", "חברה", "שם החברה", "שם חברה", "ארגון", "שם העסק", "עסק", "societe",
        "entreprise", "raison sociale", "firma", "unternehmen", "firmenname", "empresa",
        "compania", "azienda", "societa", "компания", "организация", "название компании",
        "الشركة", "اسم الشركة", "المؤسسة", "bedrijf", "bedrijfsnaam", "şirket", "sirket",
        "firma adı", "会社名", "会社", "企業名", "公司", "公司名称", "单位",
    ),
    "subject": (
        "subject", "topic", "title", "regarding", "subject line", "נושא", "נושא הפנייה",
        "כותרת", "sujet", "objet", "betreff", "thema", "asunto", "tema", "oggetto", "assunto",
        "тема", "тема сообщения", "الموضوع", "موضوع", "onderwerp", "konu", "件名", "主题", "主題",
        "标题", "predmet", "predmet zpravy", "temat", "tytul", "amne", "emne", "aihe",
        "oggetto della richiesta", "asunto del mensaje", "objet de votre demande",
        "objet du message", "тема обращения", "заголовок", "כותרת הפנייה", "נושא ההודעה",
    ),
    "message": (
        "message", "your message", "comments", "comment", "enquiry", "inquiry", "question",
        "questions", "details", "how can we help", "msg", "body", "description", "request",
        "note", "notes", "tell us", "הודעה", "תוכן הפנייה", "תוכן ההודעה", "פנייה", "פניה",
        "הערות", "פרטי הפנייה", "תוכן", "איך נוכל לעזור", "השאירו הודעה", "votre message",
        "commentaire", "demande", "nachricht", "ihre nachricht", "mitteilung", "anliegen",
        "anfrage", "mensaje", "su mensaje", "consulta", "comentarios", "messaggio", "richiesta",
        "mensagem", "sua mensagem", "comentario", "duvida", "сообщение", "ваше сообщение",
        "вопрос", "комментарий", "الرسالة", "رسالتك", "استفسارك", "bericht", "uw bericht",
        "vraag", "opmerking", "mesaj", "mesajınız", "mesajiniz", "お問い合わせ内容", "内容", "メッセージ",
        "留言", "消息", "内容描述", "信息", "zprava", "vase zprava", "vzkaz", "dotaz",
        "wiadomosc", "tresc", "текст сообщения", "текст обращения", "обращение",
    ),
    "topic": (
        "topic", "subject", "department", "reason", "inquiry type", "enquiry type",
        "request type", "category", "type of inquiry", "regarding", "type", "case type", "נושא",
        "נושא הפנייה", "סוג הפנייה", "מחלקה", "sujet", "objet", "motif", "service", "betreff",
        "thema", "anliegen", "abteilung", "asunto", "motivo", "departamento", "tema", "oggetto",
        "motivo", "reparto", "assunto", "тема", "отдел", "причина", "الموضوع", "القسم",
        "onderwerp", "afdeling", "konu", "departman", "種別", "お問い合わせ種別", "类别", "类型", "主题",
    ),
    "consent": (
        "i agree", "agree", "accept", "consent", "privacy", "privacy policy", "terms",
        "terms and conditions", "gdpr", "i have read", "מסכים", "מסכימה", "מאשר", "מאשרת",
        "אני מאשר", "מדיניות הפרטיות", "פרטיות", "תנאי השימוש", "תקנון", "קראתי", "j accepte",
        "accepte", "confidentialite", "politique de confidentialite", "conditions", "j ai lu",
        "einverstanden", "datenschutz", "zustimmung", "ich stimme", "akzeptiere", "acepto",
        "privacidad", "politica de privacidad", "consiento", "accetto", "privacy policy",
        "acconsento", "concordo", "aceito", "privacidade", "согласен", "согласна", "согласие",
        "политика конфиденциальности", "أوافق", "اوافق", "سياسة الخصوصية", "الشروط", "akkoord",
        "ga akkoord", "privacybeleid", "kabul", "onaylıyorum", "kvkk", "gizlilik", "同意", "个人信息",
        "隐私", "プライバシー", "個人情報",
    ),
    "marketing_opt_in": (
        "newsletter", "marketing", "promotional", "communications", "agree to receive",
        "to receive", "receive emails", "receive information", "contact me about", "news",
        "מעוניין לקבל", "מעוניינת לקבל", "לקבל מידע", "לקבל עדכונים", "promotions", "offers",
        "special offers", "news and offers", "updates", "subscribe", "mailing list",
        "advertising", "דיוור", "דיוורים", "ניוזלטר", "עדכונים", "מבצעים", "הטבות", "פרסומות",
        "פרסומי", "חומר שיווקי", "שיווקי", "דברי פרסומת", "lettre d information", "offres",
        "prospection", "infolettre", "werbung", "angebote", "aktionen", "boletin", "ofertas",
        "promociones", "comunicaciones comerciales", "offerte", "promozionali", "novita",
        "novidades", "promocoes", "рассылка", "рассылку", "акции", "предложения",
        "النشرة الإخبارية", "العروض", "nieuwsbrief", "aanbiedingen", "kampanya", "bülten",
        "bulten", "ticari elektronik", "メールマガジン", "メルマガ", "ニュースレター", "订阅", "促销", "营销",
    ),
    "captcha": (
        "captcha", "security code", "verification code", "enter the code",
        "enter the characters", "type the characters", "what is", "solve", "are you human",
        "anti spam", "antispam", "spam check", "קוד אימות", "הקלד את הקוד", "קוד ביטחון",
        "כמה זה", "code de securite", "sicherheitscode", "rechenaufgabe", "codigo de seguridad",
        "codice di sicurezza", "codigo de verificacao", "код с картинки", "проверочный код",
        "رمز التحقق", "beveiligingscode", "güvenlik kodu", "guvenlik kodu", "画像認証", "验证码",
        "驗證碼", "humanverify", "human verify", "human verification", "image verification",
        "verify you are human", "prove you are human", "prove that you are human",
        "are you a human", "are you a robot", "not a robot", "anti bot", "antibot",
        "security question", "spam protection", "spam prevention", "enter the code shown",
        "code shown", "type the code", "image code", "captcha code",
        "הקלידו את הקוד", "קוד האבטחה", "קוד אבטחה", "הוכח שאינך רובוט", "אימות אנושי",
        "spamschutz", "sicherheitsfrage", "code de verification", "recopiez le code",
        "введите код", "защитный код", "код проверки", "codice di controllo",
        "codigo de verificacion", "antispam vraag",
    ),
    "honeypot": (
        "honeypot", "honey pot", "hp", "leave this empty", "leave this field empty",
        "leave this field blank", "leave blank", "do not fill", "don t fill", "dont fill",
        "if you are human", "if you are a human", "bot trap", "nospam", "no spam", "השאר ריק",
        "אין למלא", "laisser vide", "ne pas remplir", "leer lassen", "nicht ausfullen",
        "dejar en blanco", "no rellenar", "lasciare vuoto", "не заполняйте", "оставьте пустым",
        "اترك هذا الحقل فارغا", "leeg laten", "boş bırakın",
    ),
}

# Local details a persona may carry (role "other" with this detail).
DETAIL_WORDS: dict[str, tuple[str, ...]] = {
    "national_id": (
        "id number", "national id", "identity number", "id no", "teudat zehut", "tz", "ת ז",
        "תז", "תעודת זהות", "מספר זהות", "מס זהות", "מספר ת ז", "תעודת זהות ישראלית",
        "idnumber", "national id number", "passport or id", "numero d identite",
        "personalausweisnummer", "dni", "codice fiscale", "cpf", "паспорт", "инн", "رقم الهوية",
        "bsn", "tc kimlik", "kimlik no",
    ),
    "city": (
        "city", "town", "עיר", "ישוב", "יישוב", "עיר מגורים", "ville", "stadt", "wohnort",
        "ort", "ciudad", "localidad", "citta", "cidade", "город", "المدينة", "woonplaats",
        "stad", "şehir", "sehir", "市区町村", "城市", "mesto", "obec", "localita", "comune",
        "населенный пункт", "miejscowosc", "miasto",
    ),
    "is_customer": (
        "are you a customer", "existing customer", "current customer", "already a customer",
        "customer", "לקוח קיים", "האם אתה לקוח", "האם את לקוח", "הנך לקוח", "לקוח", "לקוחות",
        "deja client", "bestandskunde", "bereits kunde", "ya es cliente", "gia cliente",
        "ja e cliente", "уже клиент", "هل أنت عميل", "bestaande klant", "mevcut müşteri",
    ),
    "phone_prefix": (
        "prefix", "area code", "dialing code", "country code", "קידומת", "indicatif", "vorwahl",
        "prefijo", "prefisso", "codigo de area", "код города", "رمز المنطقة", "netnummer",
        "alan kodu", "市外局番", "区号",
    ),
    "upload": (
        "upload", "attach", "attachment", "file", "צרף קובץ", "קובץ", "pièce jointe",
    ),
    "address": (
        "address", "street", "כתובת", "רחוב", "adresse", "strasse", "direccion", "indirizzo",
        "endereco", "адрес", "العنوان", "adres", "住所", "地址",
    ),
    "zip": (
        "zip", "postal code", "postcode", "מיקוד", "code postal", "plz", "codigo postal", "cap",
        "cep", "индекс", "الرمز البريدي", "posta kodu", "郵便番号", "邮编",
    ),
}

YES_WORDS = (
    "yes", "כן", "oui", "ja", "si", "sí", "sim", "да", "نعم", "evet", "はい", "是",
)
NO_WORDS = (
    "no", "לא", "non", "nein", "não", "nao", "нет", "لا", "nee", "hayır", "hayir", "いいえ", "否",
)

GENERAL_INQUIRY_WORDS = (
    "general inquiry", "general enquiry", "general question", "general", "other", "others",
    "information", "info", "customer service", "sales", "new customer", "question", "inquiry",
    "enquiry", "שאלה", "בירור", "פנייה כללית", "פניה כללית", "כללי", "שאלה כללית", "מידע",
    "אחר", "שירות לקוחות", "מכירות", "demande generale", "renseignements", "autre",
    "information generale", "allgemeine anfrage", "allgemein", "sonstiges", "consulta general",
    "informacion", "otro", "informazioni generali", "altro", "informacoes", "outro",
    "общий вопрос", "другое", "استفسار عام", "أخرى", "algemene vraag", "overig", "genel",
    "diğer", "一般的なお問い合わせ", "その他", "一般咨询", "其他",
)
PLACEHOLDER_OPTION_WORDS = (
    "select", "choose", "please select", "pick", "בחר", "בחרי", "יש לבחור", "בחירה", "choisir",
    "selectionnez", "auswahlen", "bitte wahlen", "seleccione", "elija", "seleziona",
    "selecione", "выберите", "اختر", "kies", "selecteer", "seçiniz", "seciniz", "選択", "请选择",
    "--", "—",
)

# ---------------------------------------------------------------------------------------
# Buttons
# ---------------------------------------------------------------------------------------
SUBMIT_WORDS = (
    "send", "submit", "send message", "contact us", "get in touch", "request", "go", "שלח",
    "שלחו", "שליחה", "שלחי", "שלח פנייה", "שליחת פנייה", "אישור", "envoyer", "soumettre",
    "senden", "absenden", "abschicken", "enviar", "invia", "inviare", "enviar", "отправить",
    "послать", "إرسال", "ارسال", "أرسل", "verzenden", "versturen", "gönder", "gonder", "送信",
    "確認", "提交", "发送", "送出",
)
NEXT_WORDS = (
    "next", "continue", "next step", "proceed", "הבא", "המשך", "לשלב הבא", "suivant",
    "continuer", "weiter", "siguiente", "continuar", "avanti", "successivo", "proximo",
    "próximo", "далее", "продолжить", "التالي", "volgende", "verder", "ileri", "devam", "次へ",
    "下一步", "继续",
)

# ---------------------------------------------------------------------------------------
# Form kinds
# ---------------------------------------------------------------------------------------
KIND_WORDS: dict[str, tuple[str, ...]] = {
    "search": (
        "search", "find", "חיפוש", "חפש", "recherche", "rechercher", "suche", "suchen",
        "buscar", "busqueda", "cerca", "pesquisar", "busca", "поиск", "найти", "بحث", "zoeken",
        "ara", "arama", "検索", "搜索", "搜尋",
    ),
    "login": (
        "log in", "login", "sign in", "signin", "password", "forgot password", "התחבר",
        "התחברות", "כניסה", "סיסמה", "connexion", "se connecter", "mot de passe", "anmelden",
        "einloggen", "passwort", "iniciar sesion", "contrasena", "accedi", "entrar", "senha",
        "войти", "вход", "пароль", "تسجيل الدخول", "كلمة المرور", "inloggen", "wachtwoord",
        "giriş", "giris yap", "şifre", "ログイン", "パスワード", "登录", "密码", "登入",
    ),
    "signup": (
        "sign up", "signup", "register", "registration", "create account", "create an account",
        "הרשמה", "הירשם", "פתיחת חשבון", "inscription", "s inscrire", "creer un compte",
        "registrieren", "konto erstellen", "registrarse", "crear cuenta", "registrati",
        "cadastre", "cadastrar", "регистрация", "зарегистрироваться", "تسجيل", "إنشاء حساب",
        "registreren", "kayıt ol", "kaydol", "新規登録", "会員登録", "注册", "註冊",
    ),
    "newsletter": (
        "newsletter", "subscribe", "sign up for", "mailing list", "stay updated", "updates",
        "ניוזלטר", "הרשמה לניוזלטר", "דיוור", "הירשמו", "עדכונים", "infolettre", "abonner",
        "s abonner", "abonnieren", "suscribir", "suscribete", "iscriviti", "assinar",
        "inscreva", "подписаться", "рассылка", "اشترك", "النشرة", "nieuwsbrief", "aanmelden",
        "abone ol", "bülten", "メルマガ", "ニュースレター", "订阅", "訂閱",
    ),
    "comment": (
        "leave a reply", "leave a comment", "post comment", "add comment", "reply", "comment",
        "הוסף תגובה", "תגובה", "כתוב תגובה", "laisser un commentaire", "kommentar schreiben",
        "deja un comentario", "lascia un commento", "deixe um comentario",
        "оставить комментарий", "أضف تعليق", "reactie", "yorum yap", "コメント", "评论", "留言板",
    ),
    "checkout": (
        "checkout", "check out", "payment", "pay now", "place order", "card number",
        "credit card", "billing", "shipping", "cvv", "cvc", "expiry", "add to cart", "quantity",
        "coupon", "תשלום", "כרטיס אשראי", "לתשלום", "הזמנה", "paiement", "commander",
        "carte bancaire", "zahlung", "kasse", "bestellen", "pago", "tarjeta", "pagamento",
        "carta di credito", "cartao", "оплата", "оформить заказ", "الدفع", "afrekenen",
        "betalen", "ödeme", "お支払い", "決済", "支付", "结账",
    ),
    "contact": (
        "contact", "contact us", "get in touch", "send us a message", "write to us", "enquiry",
        "inquiry", "how can we help", "customer service", "support request", "צור קשר",
        "צרו קשר", "יצירת קשר", "השאירו פרטים", "השאר פרטים", "השאירי פרטים", "פנייה", "פניה",
        "נחזור אליך", "נחזור אליכם", "שירות לקוחות", "contactez", "nous contacter", "kontakt",
        "kontaktformular", "kontaktieren", "contacto", "contactenos", "contáctenos", "contatti",
        "contattaci", "contato", "fale conosco", "контакты", "связаться", "обратная связь",
        "напишите нам", "اتصل بنا", "تواصل معنا", "contacteer", "neem contact op", "iletişim",
        "iletisim", "bize ulaşın", "お問い合わせ", "问い合わせ", "联系我们", "聯絡我們", "联系", "咨询",
        "submit a request", "new request", "contact form", "פנייה חדשה",
    ),
}

# Public postings: what is sent there is published (comments, reviews, forum replies,
# guest books) or goes to a third person (share by e-mail, send to a friend). Never sent.
POSTING_WORDS: dict[str, tuple[str, ...]] = {
    "comment": (
        "commentform", "comment form", "wp comments post", "leave a reply", "leave a comment",
        "post comment", "post a comment", "add comment", "add a comment", "submit comment",
        "your comment", "comment reply", "reply title", "cancel reply",
        "הוסף תגובה", "הוספת תגובה", "כתוב תגובה", "כתבו תגובה", "שלח תגובה", "תגובה חדשה",
        "laisser un commentaire", "ajouter un commentaire", "kommentar schreiben",
        "kommentar hinterlassen", "deja un comentario", "dejar un comentario",
        "lascia un commento", "deixe um comentario", "оставить комментарий",
        "добавить комментарий", "أضف تعليق", "اترك تعليق", "yorum yap", "コメントを残す",
        "发表评论",
        # reviews
        "review form", "write a review", "add a review", "submit review", "submit your review",
        "your review", "your rating", "product review", "customer review", "rate this",
        "כתוב ביקורת", "כתיבת ביקורת", "חוות דעת", "donner un avis", "votre avis",
        "ecrire un avis", "bewertung schreiben", "bewertung abgeben", "ihre bewertung",
        "escribir una opinion", "escribe una resena", "tu opinion", "scrivi una recensione",
        "la tua recensione", "написать отзыв", "ваш отзыв", "اكتب مراجعة", "レビューを書く",
        # forums
        "post reply", "post a reply", "quick reply", "quickreply", "new reply", "newreply",
        "reply to topic", "reply to this topic", "reply to thread", "submit reply",
        "new topic", "new thread", "post new thread", "posting", "postform", "forum",
        "השב לנושא", "תגובה מהירה", "פורום", "repondre au sujet", "foro",
        "ответить", "форум",
        # guest books
        "guestbook", "guest book", "sign the guestbook", "sign our guestbook", "gastebuch",
        "gaestebuch", "ספר אורחים", "livre d or", "libro de visitas", "libro degli ospiti",
        "гостевая книга",
    ),
    "share": (
        "send to a friend", "send to friend", "sendtoafriend", "send to a colleague",
        "tell a friend", "tellafriend", "email a friend", "e mail a friend", "mail a friend",
        "forward to a friend", "recommend to a friend", "share by email", "share via email",
        "share by e mail", "share this page", "share this article", "email this page",
        "email this article", "email this", "e mail this page", "friend s email",
        "friends email", "friend email", "friend s e mail", "friend s name", "friend name",
        "recipient email", "recipient s email", "recipient e mail", "recipients email",
        "שלח לחבר", "שלחו לחבר", "שתף במייל", "שיתוף במייל", "המלץ לחבר",
        "מייל החבר", "envoyer a un ami", "partager par email", "email de votre ami",
        "an einen freund senden", "weiterempfehlen", "seite empfehlen", "e mail des empfangers",
        "enviar a un amigo", "recomendar a un amigo", "correo de tu amigo", "invia a un amico",
        "segnala a un amico", "email del tuo amico", "отправить другу", "поделиться по почте",
        "أرسل لصديق", "友達に送る",
    ),
}

CONTACT_LINK_WORDS: tuple[str, ...] = KIND_WORDS["contact"] + (
    "customer care", "support", "help", "service", "feedback", "write us", "email us", "שירות",
    "לקוחות", "פניות הציבור", "פניות", "contact-us", "contactus", "kontakty", "assistance",
    "aide", "hilfe", "ayuda", "aiuto", "ajuda", "поддержка", "помощь", "الدعم",
    "klantenservice", "destek", "サポート", "客服", "帮助",
)
# Never follow links whose text or path says this (shop, account, social, documents).
BAD_LINK_WORDS = (
    "login", "log in", "sign in", "register", "cart", "basket", "checkout", "careers", "jobs",
    "משרות", "דרושים", "התחברות", "facebook", "twitter", "linkedin", "instagram", "youtube",
    "whatsapp", "tel:", "mailto:", "javascript:", ".pdf", ".jpg", ".zip",
)

COMMON_CONTACT_PATHS = (
    "/contact", "/contact-us", "/contactus", "/צור-קשר", "/contact.html", "/he/contact",
    "/en/contact", "/kontakt", "/contacto", "/contatti",
)

# ---------------------------------------------------------------------------------------
# Verification texts
# ---------------------------------------------------------------------------------------
THANKS_WORDS = (
    "thank you", "thanks", "your message has been sent", "message sent",
    "message has been sent", "we have received", "we ve received", "we received your",
    "we will get back", "we ll get back", "we will contact you", "successfully submitted",
    "submission received", "has been submitted", "request has been received",
    "your request has been", "תודה", "תודה רבה", "פנייתך התקבלה", "הפנייה התקבלה",
    "הפנייה נשלחה", "פנייתך נשלחה", "ההודעה נשלחה", "הודעתך נשלחה", "נחזור אליך", "נחזור אלייך",
    "נציג יחזור", "קיבלנו את", "merci", "votre message a ete envoye", "message envoye",
    "nous vous repondrons", "danke", "vielen dank", "nachricht wurde gesendet",
    "erfolgreich gesendet", "gracias", "mensaje enviado", "su mensaje ha sido enviado",
    "nos pondremos en contacto", "grazie", "messaggio inviato", "messaggio e stato inviato",
    "obrigado", "obrigada", "mensagem enviada", "спасибо", "сообщение отправлено",
    "ваше сообщение отправлено", "заявка принята", "شكرا", "شكراً", "تم الإرسال", "تم إرسال",
    "تم استلام", "bedankt", "dank u", "bericht is verzonden", "teşekkür", "tesekkur",
    "mesajınız gönderildi", "ありがとう", "送信しました", "送信完了", "受け付けました", "谢谢", "感谢", "已提交", "提交成功",
    "发送成功", "謝謝",
)
ERROR_WORDS = (
    "required", "is required", "invalid", "please fill", "please enter", "please correct",
    "error", "errors", "not valid", "must be", "failed", "problem", "try again", "שדה חובה",
    "חובה", "שגיאה", "לא תקין", "לא תקינה", "יש למלא", "נא למלא", "נסה שוב", "obligatoire",
    "invalide", "erreur", "erforderlich", "pflichtfeld", "ungultig", "fehler", "obligatorio",
    "invalido", "error", "obbligatorio", "non valido", "errore", "obrigatorio", "invalido",
    "erro", "обязательно", "обязательное поле", "ошибка", "неверный", "مطلوب", "غير صالح",
    "خطأ", "verplicht", "ongeldig", "fout", "zorunlu", "geçersiz", "hata", "必須", "入力してください",
    "エラー", "必填", "错误", "无效", "יש לתקן", "יש להזין", "נא להזין", "אינו תקין", "שגוי",
    "wymagane", "pole wymagane", "błąd", "nieprawidłowy", "povinne", "neplatny",
    "campo obligatorio", "non corretto", "vereist",
)
SPAM_WORDS = (
    "spam", "flagged as spam", "suspected spam", "marked as spam", "suspicious", "blocked",
    "not allowed", "too fast", "bot", "ספאם", "חשד לספאם", "indesirable", "спам", "غير مرغوب",
)

COOKIE_ACCEPT_WORDS = (
    "accept", "accept all", "accept cookies", "allow all", "allow cookies", "agree", "i agree",
    "got it", "ok", "okay", "understood", "i understand", "continue", "אישור", "אני מסכים",
    "מסכים", "מאשר", "הבנתי", "אשר", "קבל", "אפשר הכל", "סגור", "accepter", "tout accepter",
    "j accepte", "d accord", "akzeptieren", "alle akzeptieren", "zustimmen", "einverstanden",
    "aceptar", "aceptar todo", "acepto", "accetta", "accetto", "accetta tutti", "aceitar",
    "aceito", "concordo", "принять", "согласен", "понятно", "موافق", "قبول", "accepteren",
    "akkoord", "alles accepteren", "kabul et", "tamam", "同意する", "同意", "接受", "我同意",
)
# fmt: on

_MARKS = re.compile("[\u0300-\u036f\u0591-\u05c7\u064b-\u065f\u0670]")
_SEPS = re.compile(r"[\s_\-./\\\[\]():,;!?'\"`´׳״«»“”|+#*=<>{}]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[a-zA-Z])(?=\d)")
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HEBREW = re.compile("[\u05d0-\u05ea]")
_ARABIC = re.compile("[\u0600-\u06ff]")


def normalize(text: str | None, camel: bool = False) -> str:
    """Lower-case, marks stripped, separators to single spaces. ``camel`` splits names."""
    if not text:
        return ""
    t = unicodedata.normalize("NFKC", str(text))
    if camel:
        t = _CAMEL.sub(" ", t)
    t = unicodedata.normalize("NFD", t.casefold())
    t = _MARKS.sub("", t)
    t = unicodedata.normalize("NFC", t)
    return _SEPS.sub(" ", t).strip()


@lru_cache(maxsize=4096)
def _pattern(phrase: str) -> re.Pattern[str]:
    p = normalize(phrase)
    body = re.escape(p).replace(r"\ ", " ")
    if _CJK.search(p):
        return re.compile(body)
    if _HEBREW.search(p):
        left = r"(?<![\w])(?:[והבלמשכ]|וה|ול|וב|שה|מה)?"
    elif _ARABIC.search(p):
        left = r"(?<![\w])(?:[وبلف]|ال)?"
    else:
        left = r"(?<![\w])"
    right = r"(?!\w)" if len(p) <= 4 else ""
    return re.compile(left + body + right)


def find(text: str, phrases: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """Every (start, end, phrase) of ``phrases`` in already-normalised ``text``."""
    out: list[tuple[int, int, str]] = []
    if not text:
        return out
    for ph in phrases:
        for m in _pattern(ph).finditer(text):
            out.append((m.start(), m.end(), ph))
    return out


def has_any(text: str, phrases: tuple[str, ...]) -> bool:
    """True when normalised ``text`` contains one of ``phrases`` (see module rules)."""
    if not text:
        return False
    return any(_pattern(ph).search(text) for ph in phrases)


def best_len(text: str, phrases: tuple[str, ...]) -> int:
    """Length of the longest phrase found, 0 when none: longer phrases are more specific."""
    hits = find(text, phrases)
    return max((e - s for s, e, _ in hits), default=0)


def roles_in(text: str, roles: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Roles named in ``text`` -> length of their longest match, dropping a role whose every
    match lies inside a longer match of another role ("company name" is not a name)."""
    hits: list[tuple[int, int, str]] = []
    for role, words in roles.items():
        for s, e, _ in find(text, words):
            hits.append((s, e, role))
    out: dict[str, int] = {}
    for s, e, role in hits:
        shadowed = any(
            r2 != role and s2 <= s and e <= e2 and (e2 - s2) > (e - s) for s2, e2, r2 in hits
        )
        if not shadowed:
            out[role] = max(out.get(role, 0), e - s)
    return out
