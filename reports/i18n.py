"""Interface strings of the report in English and Hebrew, and display formatting.

Only the interface is translated; company names and replies are shown as they came, in
elements with ``dir="auto"`` so each string takes its own direction.
"""

from __future__ import annotations

import math

LANGS = ("en", "he")

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "leaderboard": "Leaderboard",
        "methodology": "Methodology",
        "wave": "Wave",
        "generated": "Generated",
        "simulated": (
            "Simulated time: this survey was replayed with a clock {days} days behind "
            "real time (demo)"
        ),
        "rank": "Rank",
        "company": "Company",
        "sector": "Sector",
        "status": "Status",
        "submitted": "Submitted",
        "first_reply": "First reply",
        "first_human_reply": "First human reply",
        "wall_time": "Wall-clock time",
        "business_time": "Business time",
        "tier": "Tier",
        "promise": "Own promise",
        "change": "Change",
        "all_sectors": "All sectors",
        "filter_sector": "Sector",
        "all_channels": "All channels",
        "channels": "Channels",
        "channel_why": "Why",
        "channel_form": "web form",
        "channel_email": "e-mail",
        "search": "Search",
        "not_reachable": "Not reachable",
        "not_reachable_note": (
            "The form could not be submitted: these companies are not ranked and not counted "
            "as slow."
        ),
        "reason": "Reason",
        "summary": "Summary",
        "companies_n": "Companies",
        "answered_n": "Answered by the close",
        "median": "Median time to a human reply (Kaplan-Meier, business time)",
        "median_wall": "Median time to a human reply (Kaplan-Meier, wall-clock)",
        "not_reached": "not reached",
        "ci": "95% CI",
        "charts": "Charts",
        "chart_distribution": "Time to first human reply, per sector (business time)",
        "chart_survival": "Still waiting for a human reply (Kaplan-Meier, censored at close)",
        "chart_funnel": "Funnel",
        "chart_quality": "Speed against quality",
        "no_grades": "No grades recorded yet (audit grade COMPANY --score 0-10).",
        "no_reply_short": "no reply",
        "per_sector": "Per sector",
        "n": "n",
        "events": "replies",
        "censored": "censored",
        "timeline": "Timeline",
        "evidence": "Evidence",
        "before": "Before submitting",
        "after": "After submitting",
        "reply": "Reply",
        "subject": "Subject",
        "from": "From",
        "match_method": "Matched by",
        "sha256": "SHA-256",
        "by_hand": "class decided by hand in review",
        "dkim_pass": "signed by",
        "dkim_fail": "signature failed",
        "dkim_temperror": "signature not checked (DNS error)",
        "dkim_none": "not signed",
        "not_aligned": "not the sender's domain",
        "history": "Waves",
        "back": "Back to the leaderboard",
        "late": "after the close (not counted)",
        "event_submitted": "Form submitted",
        "event_human": "Human reply",
        "event_auto_ack": "Automatic acknowledgement",
        "event_bounce": "Bounce",
        "channel": "Channel",
        "page": "Contact page",
        "homepage": "Website",
        "quality": "Quality",
        "dates": "Dates",
        "persona": "Persona",
        "message": "Message sent",
        "calendar": "Business calendar",
        "definitions": "Definitions",
        "exclusions": "Exclusions",
        "holidays": "Public holidays in the survey period",
        "timezone": "Time zone",
        "close": "Close",
        "opened": "First submission",
        "none": "none",
        "closed": "closed",
        "kept": "kept",
        "broken": "broken",
        "pending": "pending",
        "unknown": "unknown",
        "status_answered": "answered",
        "status_auto_ack_only": "auto-reply only",
        "status_no_reply": "no reply by close",
        "status_bounced": "bounced",
        "status_form_failed": "form failed",
        "status_blocked": "blocked",
        "status_not_sent": "not sent yet",
        "next_step": "next",
        "funnel_listed": "listed",
        "funnel_reachable": "form found",
        "funnel_submitted": "submitted",
        "funnel_acknowledged": "acknowledged",
        "funnel_answered": "answered",
        "sun": "Sun",
        "mon": "Mon",
        "tue": "Tue",
        "wed": "Wed",
        "thu": "Thu",
        "fri": "Fri",
        "sat": "Sat",
        "skip": "Skip to the table",
        "median_word": "median",
        "rows_of": "Rows {first}–{last} of {total}",
        "prev_page": "Previous",
        "next_page": "Next",
        "rows_note": (
            "This page lists the first {n} rows; with scripts on, the pager, search and sort "
            "cover all {total}. Without scripts: every company in results.csv and on the "
        ),
        "company_pages": "company pages",
        "companies_page": "Companies, page",
    },
    "he": {
        "leaderboard": "טבלת דירוג",
        "methodology": "מתודולוגיה",
        "wave": "גל",
        "generated": "הופק",
        "simulated": (
            "זמן מדומה: הסקר הורץ מחדש עם שעון שמפגר ב-{days} ימים אחרי הזמן האמיתי (הדגמה)"
        ),
        "rank": "דירוג",
        "company": "חברה",
        "sector": "ענף",
        "status": "מצב",
        "submitted": "נשלח",
        "first_reply": "תגובה ראשונה",
        "first_human_reply": "מענה אנושי ראשון",
        "wall_time": "זמן שעון",
        "business_time": "זמן עסקי",
        "tier": "דרגה",
        "promise": "התחייבות החברה",
        "change": "שינוי",
        "all_sectors": "כל הענפים",
        "filter_sector": "ענף",
        "all_channels": "כל הערוצים",
        "channels": "ערוצים",
        "channel_why": "סיבה",
        "channel_form": "טופס באתר",
        "channel_email": 'דוא"ל',
        "search": "חיפוש",
        "not_reachable": "לא ניתן ליצור קשר",
        "not_reachable_note": ("הטופס לא נשלח: חברות אלה אינן מדורגות ואינן נחשבות איטיות."),
        "reason": "סיבה",
        "summary": "סיכום",
        "companies_n": "חברות",
        "answered_n": "ענו עד סגירת הגל",
        "median": "חציון הזמן עד מענה אנושי (קפלן-מאייר, זמן עסקי)",
        "median_wall": "חציון הזמן עד מענה אנושי (קפלן-מאייר, זמן שעון)",
        "not_reached": "לא הושג",
        "ci": "רווח סמך 95%",
        "charts": "תרשימים",
        "chart_distribution": "זמן עד מענה אנושי ראשון לפי ענף (זמן עסקי)",
        "chart_survival": "עדיין ממתינים למענה אנושי (קפלן-מאייר, צנזור בסגירה)",
        "chart_funnel": "משפך",
        "chart_quality": "מהירות מול איכות",
        "no_grades": "טרם נרשמו ציונים (audit grade COMPANY --score 0-10).",
        "no_reply_short": "ללא מענה",
        "per_sector": "לפי ענף",
        "n": "מספר",
        "events": "מענים",
        "censored": "מצונזרים",
        "timeline": "ציר זמן",
        "evidence": "ראיות",
        "before": "לפני השליחה",
        "after": "אחרי השליחה",
        "reply": "מענה",
        "subject": "נושא",
        "from": "מאת",
        "match_method": "שיטת התאמה",
        "sha256": "SHA-256",
        "by_hand": "הסיווג הוכרע ידנית בבדיקה",
        "dkim_pass": "חתום על ידי",
        "dkim_fail": "החתימה נכשלה",
        "dkim_temperror": "החתימה לא נבדקה (שגיאת DNS)",
        "dkim_none": "לא חתום",
        "not_aligned": "לא הדומיין של השולח",
        "history": "גלים",
        "back": "חזרה לטבלת הדירוג",
        "late": "אחרי הסגירה (לא נספר)",
        "event_submitted": "הטופס נשלח",
        "event_human": "מענה אנושי",
        "event_auto_ack": "אישור אוטומטי",
        "event_bounce": "החזרת דואר",
        "channel": "ערוץ",
        "page": "דף יצירת קשר",
        "homepage": "אתר",
        "quality": "איכות",
        "dates": "תאריכים",
        "persona": "פרסונה",
        "message": "ההודעה שנשלחה",
        "calendar": "לוח עסקי",
        "definitions": "הגדרות",
        "exclusions": "החרגות",
        "holidays": "חגים בתקופת הסקר",
        "timezone": "אזור זמן",
        "close": "סגירה",
        "opened": "שליחה ראשונה",
        "none": "אין",
        "closed": "סגור",
        "kept": "עמדה",
        "broken": "הופרה",
        "pending": "ממתין",
        "unknown": "לא ידוע",
        "status_answered": "ענתה",
        "status_auto_ack_only": "מענה אוטומטי בלבד",
        "status_no_reply": "לא ענתה עד הסגירה",
        "status_bounced": "הודעה חזרה",
        "status_form_failed": "הטופס נכשל",
        "status_blocked": "נחסם",
        "status_not_sent": "טרם נשלח",
        "next_step": "הצעד הבא",
        "funnel_listed": "ברשימה",
        "funnel_reachable": "נמצא טופס",
        "funnel_submitted": "נשלח",
        "funnel_acknowledged": "התקבל אישור",
        "funnel_answered": "נענה",
        "sun": "א׳",
        "mon": "ב׳",
        "tue": "ג׳",
        "wed": "ד׳",
        "thu": "ה׳",
        "fri": "ו׳",
        "sat": "ש׳",
        "skip": "דלג לטבלה",
        "median_word": "חציון",
        "rows_of": "שורות {first}–{last} מתוך {total}",
        "prev_page": "הקודם",
        "next_page": "הבא",
        "rows_note": (
            "בעמוד זה {n} השורות הראשונות; כשסקריפטים פועלים, הדפדוף, החיפוש והמיון כוללים את "
            "כל {total} השורות. בלי סקריפטים: כל החברות ב-results.csv וב"
        ),
        "company_pages": "דפי החברות",
        "companies_page": "חברות, עמוד",
    },
}

TIER_NAMES_HE = {
    "world-class": "מצוין",
    "good": "טוב",
    "fair": "סביר",
    "slow": "איטי",
    "no reply": "ללא מענה",
    "not reachable": "לא ניתן ליצור קשר",
}

_UNITS = {
    "en": ("d", "h", "min", "s"),
    "he": ("י׳", "ש׳", "דק׳", "שנ׳"),
}


def strings(lang: str) -> dict[str, str]:
    return STRINGS[lang]


def tier_label(name: str, lang: str) -> str:
    return TIER_NAMES_HE.get(name, name) if lang == "he" else name


def fmt_duration(seconds: float | None, lang: str = "en") -> str:
    """33 min, 2 h 30 min, 1 d 4 h; empty for missing values."""
    if seconds is None or not isinstance(seconds, int | float) or math.isnan(seconds):
        return ""
    if math.isinf(seconds):
        return STRINGS[lang]["not_reached"]
    d_u, h_u, m_u, s_u = _UNITS[lang]
    s = round(seconds)
    if s < 60:
        return f"{s} {s_u}"
    days, rem = divmod(s, 86400)
    hours, rem = divmod(rem, 3600)
    minutes = rem // 60
    if days:
        return f"{days} {d_u} {hours} {h_u}" if hours else f"{days} {d_u}"
    if hours:
        return f"{hours} {h_u} {minutes} {m_u}" if minutes else f"{hours} {h_u}"
    return f"{minutes} {m_u}"
