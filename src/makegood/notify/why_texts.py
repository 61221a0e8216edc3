"""Why this amount, in the subscriber's language: one sentence per kind of reason
(domain.policy.Why) and number, shared by the e-mail and the claim page.

Every language the e-mail templates and claim pages have (domain.languages.LANGUAGES) has every
kind in a singular and a plural form (a test checks it); others fall back to English.
"""

# Translated prose reads and reviews better unbroken; Turkish has a dotless i.
# ruff: noqa: RUF001

from __future__ import annotations

WHY_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "days_of_service": (
            "This credit is for {n} day of service.",
            "This credit is for {n} days of service.",
        ),
        "hours_of_service": (
            "This credit is for {n} hour of service.",
            "This credit is for {n} hours of service.",
        ),
        "hours_without_service": (
            "This credit is for about {n} hour without service.",
            "This credit is for about {n} hours without service.",
        ),
        "minutes_without_service": (
            "This credit is for about {n} minute without service.",
            "This credit is for about {n} minutes without service.",
        ),
        "failed_attempts": (
            "This credit is for {n} failed attempt to watch.",
            "This credit is for {n} failed attempts to watch.",
        ),
    },
    "es": {
        "days_of_service": (
            "Este crédito corresponde a {n} día de servicio.",
            "Este crédito corresponde a {n} días de servicio.",
        ),
        "hours_of_service": (
            "Este crédito corresponde a {n} hora de servicio.",
            "Este crédito corresponde a {n} horas de servicio.",
        ),
        "hours_without_service": (
            "Este crédito corresponde a aproximadamente {n} hora sin servicio.",
            "Este crédito corresponde a unas {n} horas sin servicio.",
        ),
        "minutes_without_service": (
            "Este crédito corresponde a aproximadamente {n} minuto sin servicio.",
            "Este crédito corresponde a unos {n} minutos sin servicio.",
        ),
        "failed_attempts": (
            "Este crédito corresponde a {n} intento fallido de reproducción.",
            "Este crédito corresponde a {n} intentos fallidos de reproducción.",
        ),
    },
    "fr": {
        "days_of_service": (
            "Cet avoir correspond à {n} jour de service.",
            "Cet avoir correspond à {n} jours de service.",
        ),
        "hours_of_service": (
            "Cet avoir correspond à {n} heure de service.",
            "Cet avoir correspond à {n} heures de service.",
        ),
        "hours_without_service": (
            "Cet avoir correspond à environ {n} heure sans service.",
            "Cet avoir correspond à environ {n} heures sans service.",
        ),
        "minutes_without_service": (
            "Cet avoir correspond à environ {n} minute sans service.",
            "Cet avoir correspond à environ {n} minutes sans service.",
        ),
        "failed_attempts": (
            "Cet avoir correspond à {n} tentative de lecture échouée.",
            "Cet avoir correspond à {n} tentatives de lecture échouées.",
        ),
    },
    "de": {
        "days_of_service": (
            "Diese Gutschrift entspricht {n} Tag Ihres Abonnements.",
            "Diese Gutschrift entspricht {n} Tagen Ihres Abonnements.",
        ),
        "hours_of_service": (
            "Diese Gutschrift entspricht {n} Stunde Ihres Abonnements.",
            "Diese Gutschrift entspricht {n} Stunden Ihres Abonnements.",
        ),
        "hours_without_service": (
            "Diese Gutschrift gilt für etwa {n} Stunde ohne Dienst.",
            "Diese Gutschrift gilt für etwa {n} Stunden ohne Dienst.",
        ),
        "minutes_without_service": (
            "Diese Gutschrift gilt für etwa {n} Minute ohne Dienst.",
            "Diese Gutschrift gilt für etwa {n} Minuten ohne Dienst.",
        ),
        "failed_attempts": (
            "Diese Gutschrift gilt für {n} fehlgeschlagenen Wiedergabeversuch.",
            "Diese Gutschrift gilt für {n} fehlgeschlagene Wiedergabeversuche.",
        ),
    },
    "pt": {
        "days_of_service": (
            "Este crédito corresponde a {n} dia de serviço.",
            "Este crédito corresponde a {n} dias de serviço.",
        ),
        "hours_of_service": (
            "Este crédito corresponde a {n} hora de serviço.",
            "Este crédito corresponde a {n} horas de serviço.",
        ),
        "hours_without_service": (
            "Este crédito corresponde a cerca de {n} hora sem serviço.",
            "Este crédito corresponde a cerca de {n} horas sem serviço.",
        ),
        "minutes_without_service": (
            "Este crédito corresponde a cerca de {n} minuto sem serviço.",
            "Este crédito corresponde a cerca de {n} minutos sem serviço.",
        ),
        "failed_attempts": (
            "Este crédito corresponde a {n} tentativa de reprodução com falha.",
            "Este crédito corresponde a {n} tentativas de reprodução com falha.",
        ),
    },
    "ja": {
        "days_of_service": (
            "このクレジットはサービス{n}日分です。",
            "このクレジットはサービス{n}日分です。",
        ),
        "hours_of_service": (
            "このクレジットはサービス{n}時間分です。",
            "このクレジットはサービス{n}時間分です。",
        ),
        "hours_without_service": (
            "このクレジットは、約{n}時間サービスをご利用いただけなかった分です。",
            "このクレジットは、約{n}時間サービスをご利用いただけなかった分です。",
        ),
        "minutes_without_service": (
            "このクレジットは、約{n}分間サービスをご利用いただけなかった分です。",
            "このクレジットは、約{n}分間サービスをご利用いただけなかった分です。",
        ),
        "failed_attempts": (
            "このクレジットは、再生の失敗{n}回分です。",
            "このクレジットは、再生の失敗{n}回分です。",
        ),
    },
    "it": {
        "days_of_service": (
            "Questo credito corrisponde a {n} giorno di servizio.",
            "Questo credito corrisponde a {n} giorni di servizio.",
        ),
        "hours_of_service": (
            "Questo credito corrisponde a {n} ora di servizio.",
            "Questo credito corrisponde a {n} ore di servizio.",
        ),
        "hours_without_service": (
            "Questo credito corrisponde a circa {n} ora senza servizio.",
            "Questo credito corrisponde a circa {n} ore senza servizio.",
        ),
        "minutes_without_service": (
            "Questo credito corrisponde a circa {n} minuto senza servizio.",
            "Questo credito corrisponde a circa {n} minuti senza servizio.",
        ),
        "failed_attempts": (
            "Questo credito corrisponde a {n} tentativo di visione non riuscito.",
            "Questo credito corrisponde a {n} tentativi di visione non riusciti.",
        ),
    },
    "nl": {
        "days_of_service": (
            "Dit tegoed is voor {n} dag service.",
            "Dit tegoed is voor {n} dagen service.",
        ),
        "hours_of_service": (
            "Dit tegoed is voor {n} uur service.",
            "Dit tegoed is voor {n} uur service.",
        ),
        "hours_without_service": (
            "Dit tegoed is voor ongeveer {n} uur zonder service.",
            "Dit tegoed is voor ongeveer {n} uur zonder service.",
        ),
        "minutes_without_service": (
            "Dit tegoed is voor ongeveer {n} minuut zonder service.",
            "Dit tegoed is voor ongeveer {n} minuten zonder service.",
        ),
        "failed_attempts": (
            "Dit tegoed is voor {n} mislukte poging om te kijken.",
            "Dit tegoed is voor {n} mislukte pogingen om te kijken.",
        ),
    },
    "pl": {
        "days_of_service": (
            "Ten rabat obejmuje {n} dzień usługi.",
            "Ten rabat obejmuje dni usługi: {n}.",
        ),
        "hours_of_service": (
            "Ten rabat obejmuje {n} godzinę usługi.",
            "Ten rabat obejmuje godziny usługi: {n}.",
        ),
        "hours_without_service": (
            "Ten rabat obejmuje około {n} godzinę bez usługi.",
            "Ten rabat obejmuje czas bez usługi w godzinach: około {n}.",
        ),
        "minutes_without_service": (
            "Ten rabat obejmuje około {n} minutę bez usługi.",
            "Ten rabat obejmuje czas bez usługi w minutach: około {n}.",
        ),
        "failed_attempts": (
            "Ten rabat obejmuje {n} nieudaną próbę odtworzenia.",
            "Ten rabat obejmuje nieudane próby odtworzenia: {n}.",
        ),
    },
    "tr": {
        "days_of_service": (
            "Bu indirim {n} günlük hizmet içindir.",
            "Bu indirim {n} günlük hizmet içindir.",
        ),
        "hours_of_service": (
            "Bu indirim {n} saatlik hizmet içindir.",
            "Bu indirim {n} saatlik hizmet içindir.",
        ),
        "hours_without_service": (
            "Bu indirim yaklaşık {n} saatlik hizmet kesintisi içindir.",
            "Bu indirim yaklaşık {n} saatlik hizmet kesintisi içindir.",
        ),
        "minutes_without_service": (
            "Bu indirim yaklaşık {n} dakikalık hizmet kesintisi içindir.",
            "Bu indirim yaklaşık {n} dakikalık hizmet kesintisi içindir.",
        ),
        "failed_attempts": (
            "Bu indirim {n} başarısız izleme denemesi içindir.",
            "Bu indirim {n} başarısız izleme denemesi içindir.",
        ),
    },
    "ko": {
        "days_of_service": (
            "이 크레딧은 서비스 {n}일분입니다.",
            "이 크레딧은 서비스 {n}일분입니다.",
        ),
        "hours_of_service": (
            "이 크레딧은 서비스 {n}시간분입니다.",
            "이 크레딧은 서비스 {n}시간분입니다.",
        ),
        "hours_without_service": (
            "이 크레딧은 약 {n}시간 동안 서비스를 이용하지 못하신 데 대한 것입니다.",
            "이 크레딧은 약 {n}시간 동안 서비스를 이용하지 못하신 데 대한 것입니다.",
        ),
        "minutes_without_service": (
            "이 크레딧은 약 {n}분 동안 서비스를 이용하지 못하신 데 대한 것입니다.",
            "이 크레딧은 약 {n}분 동안 서비스를 이용하지 못하신 데 대한 것입니다.",
        ),
        "failed_attempts": (
            "이 크레딧은 시청 시도 {n}회 실패에 대한 것입니다.",
            "이 크레딧은 시청 시도 {n}회 실패에 대한 것입니다.",
        ),
    },
    "ar": {
        "days_of_service": (
            "هذا الرصيد مقابل يوم واحد من الخدمة ({n}).",
            "هذا الرصيد مقابل أيام من الخدمة: {n}.",
        ),
        "hours_of_service": (
            "هذا الرصيد مقابل ساعة واحدة من الخدمة ({n}).",
            "هذا الرصيد مقابل ساعات من الخدمة: {n}.",
        ),
        "hours_without_service": (
            "هذا الرصيد مقابل نحو ساعة واحدة دون خدمة ({n}).",
            "هذا الرصيد مقابل ساعات دون خدمة: نحو {n}.",
        ),
        "minutes_without_service": (
            "هذا الرصيد مقابل نحو دقيقة واحدة دون خدمة ({n}).",
            "هذا الرصيد مقابل دقائق دون خدمة: نحو {n}.",
        ),
        "failed_attempts": (
            "هذا الرصيد مقابل محاولة مشاهدة واحدة فاشلة ({n}).",
            "هذا الرصيد مقابل محاولات مشاهدة فاشلة: {n}.",
        ),
    },
}


def why_sentence(why: str | None, count: int | None, language: str) -> str:
    """The sentence saying what the amount is for, or "" when the snapshot has no reason
    (campaigns decided before reasons were kept)."""
    if not why or count is None:
        return ""
    texts = WHY_TEXTS.get(language, WHY_TEXTS["en"])
    forms = texts.get(why)
    if forms is None:
        return ""
    return forms[0 if count == 1 else 1].format(n=count)
