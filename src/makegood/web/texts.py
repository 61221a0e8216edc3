"""What the claim pages say, per language. Plain text only: templates escape it.

Placeholders are filled with `str.format`; every language has every key (a test checks it).
Which language a reader gets is domain.languages.match_locale's (see pages.Pages.language_for).
"""

# Translated prose reads and reviews better unbroken; Japanese uses full-width parentheses.
# ruff: noqa: E501, RUF001

from __future__ import annotations

from collections.abc import Mapping

from makegood.web.texts_appeal import APPEAL_TEXTS
from makegood.web.texts_it_nl import TEXTS_IT_NL
from makegood.web.texts_ko_ar import TEXTS_KO_AR
from makegood.web.texts_more import MORE_TEXTS
from makegood.web.texts_pl_tr import TEXTS_PL_TR
from makegood.web.texts_status import STATUS_TEXTS

DEFAULT_LANGUAGE = "en"

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "offer_title": "Your service credit",
        "offer_heading": "We owe you a credit",
        "offer_intro": (
            "Your {service} account {email} had trouble playing during the outage “{incident}”. "
            "We are sorry. Confirm below and we will take {amount} off your {plan} bill."
        ),
        "evidence": "{count} failed attempts to play on your account, between {first} and {last}.",
        "evidence_at": "{count} failed attempts to play on your account, at {first}.",
        "evidence_one": "One failed attempt to play on your account, at {first}.",
        "label_amount": "Credit",
        "label_plan": "Plan",
        "label_statement": "On your statement of",
        "label_expires": "Offer open until",
        "confirm_button": "Apply my credit",
        "confirm_note": "The credit can be applied once. Nothing is charged.",
        "done_title": "Credit applied",
        "done_heading": "Your credit is applied",
        "done_body": "{amount} will be taken off your {plan} statement of {date}. Nothing more to do.",
        "already_title": "Credit already applied",
        "already_heading": "This credit is already applied",
        "already_body": (
            "{amount} was credited on {when} and appears on your statement of {date}. "
            "You do not need to do anything else."
        ),
        "already_generic": "This credit has already been applied. You do not need to do anything else.",
        "expired_title": "Offer expired",
        "expired_heading": "This offer has expired",
        "expired_body": "The credit could be claimed until {when}.",
        "expired_help": "If you think you should still receive a credit, contact us and we will look into it.",
        "notfound_title": "Link not valid",
        "notfound_heading": "This link is not valid",
        "notfound_body": (
            "The link may be incomplete, or it was replaced by a newer one. Use the link in the "
            "latest message we sent you, or contact us."
        ),
        "forbidden_title": "Please confirm again",
        "forbidden_heading": "We could not confirm this request",
        "forbidden_body": (
            "Nothing was changed. Open your link again and press the button on that page; "
            "cookies must be allowed for this site."
        ),
        "support": "Need help? Call {phone} or visit",
    },
    "es": {
        "offer_title": "Tu crédito de servicio",
        "offer_heading": "Te debemos un crédito",
        "offer_intro": (
            "Tu cuenta de {service} {email} tuvo problemas de reproducción durante la interrupción «{incident}». "
            "Lo sentimos. Confirma abajo y descontaremos {amount} de tu factura del plan {plan}."
        ),
        "evidence": "{count} intentos fallidos de reproducción en tu cuenta, entre el {first} y el {last}.",
        "evidence_at": "{count} intentos fallidos de reproducción en tu cuenta, el {first}.",
        "evidence_one": "Un intento fallido de reproducción en tu cuenta, el {first}.",
        "label_amount": "Crédito",
        "label_plan": "Plan",
        "label_statement": "En tu factura del",
        "label_expires": "Oferta válida hasta",
        "confirm_button": "Aplicar mi crédito",
        "confirm_note": "El crédito solo se puede aplicar una vez. No se cobra nada.",
        "done_title": "Crédito aplicado",
        "done_heading": "Tu crédito está aplicado",
        "done_body": (
            "Descontaremos {amount} de tu factura del plan {plan} del {date}. No tienes que hacer nada más."
        ),
        "already_title": "Crédito ya aplicado",
        "already_heading": "Este crédito ya está aplicado",
        "already_body": (
            "Se abonaron {amount} el {when} y aparecerán en tu factura del {date}. "
            "No tienes que hacer nada más."
        ),
        "already_generic": "Este crédito ya se aplicó. No tienes que hacer nada más.",
        "expired_title": "Oferta vencida",
        "expired_heading": "Esta oferta ha vencido",
        "expired_body": "El crédito se podía solicitar hasta el {when}.",
        "expired_help": "Si crees que aún te corresponde un crédito, contáctanos y lo revisaremos.",
        "notfound_title": "Enlace no válido",
        "notfound_heading": "Este enlace no es válido",
        "notfound_body": (
            "Puede que el enlace esté incompleto o que se haya sustituido por uno nuevo. Usa el "
            "enlace del último mensaje que te enviamos o contáctanos."
        ),
        "forbidden_title": "Confirma de nuevo",
        "forbidden_heading": "No pudimos confirmar esta solicitud",
        "forbidden_body": (
            "No se cambió nada. Abre tu enlace de nuevo y pulsa el botón de esa página; "
            "este sitio necesita cookies."
        ),
        "support": "¿Necesitas ayuda? Llama al {phone} o visita",
    },
    "fr": {
        "offer_title": "Votre avoir",
        "offer_heading": "Nous vous devons un avoir",
        "offer_intro": (
            "Votre compte {service} {email} n'a pas pu lire correctement pendant la panne "
            "«\u00a0{incident}\u00a0». "
            "Nous en sommes désolés. Confirmez ci-dessous et nous déduirons {amount} de votre "
            "facture {plan}."
        ),
        "evidence": "{count} tentatives de lecture échouées depuis votre compte, entre le {first} et le {last}.",
        "evidence_at": "{count} tentatives de lecture échouées depuis votre compte, le {first}.",
        "evidence_one": "Une tentative de lecture échouée depuis votre compte, le {first}.",
        "label_amount": "Avoir",
        "label_plan": "Offre",
        "label_statement": "Sur votre facture du",
        "label_expires": "Offre valable jusqu'au",
        "confirm_button": "Appliquer mon avoir",
        "confirm_note": "L'avoir ne peut être appliqué qu'une fois. Rien ne vous est facturé.",
        "done_title": "Avoir appliqué",
        "done_heading": "Votre avoir est appliqué",
        "done_body": (
            "{amount} seront déduits de votre facture {plan} du {date}. Vous n'avez rien d'autre à faire."
        ),
        "already_title": "Avoir déjà appliqué",
        "already_heading": "Cet avoir est déjà appliqué",
        "already_body": (
            "{amount} ont été crédités le {when} et figurent sur votre facture du {date}. "
            "Vous n'avez rien d'autre à faire."
        ),
        "already_generic": "Cet avoir a déjà été appliqué. Vous n'avez rien d'autre à faire.",
        "expired_title": "Offre expirée",
        "expired_heading": "Cette offre a expiré",
        "expired_body": "L'avoir pouvait être demandé jusqu'au {when}.",
        "expired_help": "Si vous pensez avoir encore droit à un avoir, contactez-nous et nous vérifierons.",
        "notfound_title": "Lien non valide",
        "notfound_heading": "Ce lien n'est pas valide",
        "notfound_body": (
            "Le lien est peut-être incomplet, ou il a été remplacé par un plus récent. Utilisez le "
            "lien du dernier message que nous vous avons envoyé, ou contactez-nous."
        ),
        "forbidden_title": "Veuillez confirmer à nouveau",
        "forbidden_heading": "Nous n'avons pas pu confirmer cette demande",
        "forbidden_body": (
            "Rien n'a été modifié. Ouvrez à nouveau votre lien et appuyez sur le bouton de cette "
            "page ; les cookies doivent être autorisés pour ce site."
        ),
        "support": "Besoin d'aide ? Appelez le {phone} ou consultez",
    },
    "de": {
        "offer_title": "Ihre Gutschrift",
        "offer_heading": "Wir schulden Ihnen eine Gutschrift",
        "offer_intro": (
            "Ihr {service}-Konto {email} hatte während der Störung „{incident}“ Probleme bei der "
            "Wiedergabe. "
            "Das tut uns leid. Bestätigen Sie unten, und wir ziehen {amount} von Ihrer "
            "Rechnung für {plan} ab."
        ),
        "evidence": "{count} fehlgeschlagene Wiedergabeversuche Ihres Kontos, zwischen {first} und {last}.",
        "evidence_at": "{count} fehlgeschlagene Wiedergabeversuche Ihres Kontos, am {first}.",
        "evidence_one": "Ein fehlgeschlagener Wiedergabeversuch Ihres Kontos, am {first}.",
        "label_amount": "Gutschrift",
        "label_plan": "Tarif",
        "label_statement": "Auf Ihrer Rechnung vom",
        "label_expires": "Angebot gültig bis",
        "confirm_button": "Gutschrift anwenden",
        "confirm_note": "Die Gutschrift kann einmal angewendet werden. Es wird nichts berechnet.",
        "done_title": "Gutschrift angewendet",
        "done_heading": "Ihre Gutschrift ist angewendet",
        "done_body": (
            "{amount} werden von Ihrer Rechnung für {plan} vom {date} abgezogen. "
            "Sie müssen nichts weiter tun."
        ),
        "already_title": "Gutschrift bereits angewendet",
        "already_heading": "Diese Gutschrift ist bereits angewendet",
        "already_body": (
            "{amount} wurden am {when} gutgeschrieben und erscheinen auf Ihrer Rechnung vom {date}. "
            "Sie müssen nichts weiter tun."
        ),
        "already_generic": "Diese Gutschrift wurde bereits angewendet. Sie müssen nichts weiter tun.",
        "expired_title": "Angebot abgelaufen",
        "expired_heading": "Dieses Angebot ist abgelaufen",
        "expired_body": "Die Gutschrift konnte bis {when} angefordert werden.",
        "expired_help": (
            "Wenn Sie meinen, dass Ihnen trotzdem eine Gutschrift zusteht, kontaktieren Sie uns; "
            "wir prüfen das."
        ),
        "notfound_title": "Link ungültig",
        "notfound_heading": "Dieser Link ist ungültig",
        "notfound_body": (
            "Der Link ist vielleicht unvollständig oder wurde durch einen neueren ersetzt. Nutzen "
            "Sie den Link aus unserer letzten Nachricht oder kontaktieren Sie uns."
        ),
        "forbidden_title": "Bitte erneut bestätigen",
        "forbidden_heading": "Wir konnten diese Anfrage nicht bestätigen",
        "forbidden_body": (
            "Es wurde nichts geändert. Öffnen Sie Ihren Link erneut und drücken Sie die "
            "Schaltfläche auf dieser Seite; Cookies müssen für diese Website erlaubt sein."
        ),
        "support": "Brauchen Sie Hilfe? Rufen Sie {phone} an oder besuchen Sie",
    },
    "pt": {
        "offer_title": "Seu crédito de serviço",
        "offer_heading": "Devemos um crédito a você",
        "offer_intro": (
            "Sua conta {service} {email} teve problemas de reprodução durante a instabilidade “{incident}”. "
            "Pedimos desculpas. Confirme abaixo e descontaremos {amount} da sua fatura do "
            "plano {plan}."
        ),
        "evidence": "{count} tentativas de reprodução com falha na sua conta, entre {first} e {last}.",
        "evidence_at": "{count} tentativas de reprodução com falha na sua conta, em {first}.",
        "evidence_one": "Uma tentativa de reprodução com falha na sua conta, em {first}.",
        "label_amount": "Crédito",
        "label_plan": "Plano",
        "label_statement": "Na sua fatura de",
        "label_expires": "Oferta válida até",
        "confirm_button": "Aplicar meu crédito",
        "confirm_note": "O crédito pode ser aplicado uma única vez. Nada é cobrado.",
        "done_title": "Crédito aplicado",
        "done_heading": "Seu crédito foi aplicado",
        "done_body": (
            "{amount} serão descontados da sua fatura do plano {plan} de {date}. "
            "Você não precisa fazer mais nada."
        ),
        "already_title": "Crédito já aplicado",
        "already_heading": "Este crédito já foi aplicado",
        "already_body": (
            "{amount} foram creditados em {when} e aparecem na sua fatura de {date}. "
            "Você não precisa fazer mais nada."
        ),
        "already_generic": "Este crédito já foi aplicado. Você não precisa fazer mais nada.",
        "expired_title": "Oferta expirada",
        "expired_heading": "Esta oferta expirou",
        "expired_body": "O crédito podia ser solicitado até {when}.",
        "expired_help": (
            "Se você acha que ainda deveria receber um crédito, fale conosco e vamos verificar."
        ),
        "notfound_title": "Link inválido",
        "notfound_heading": "Este link não é válido",
        "notfound_body": (
            "O link pode estar incompleto ou foi substituído por um mais recente. Use o link da "
            "última mensagem que enviamos ou fale conosco."
        ),
        "forbidden_title": "Confirme novamente",
        "forbidden_heading": "Não conseguimos confirmar este pedido",
        "forbidden_body": (
            "Nada foi alterado. Abra seu link novamente e toque no botão dessa página; "
            "os cookies precisam estar permitidos para este site."
        ),
        "support": "Precisa de ajuda? Ligue para {phone} ou acesse",
    },
    "ja": {
        "offer_title": "サービスクレジットのご案内",
        "offer_heading": "クレジットをお受け取りください",
        "offer_intro": (
            "障害（「{incident}」）の間、{service}のアカウント {email} で再生に問題が発生しました。"
            "ご迷惑をおかけし申し訳ございません。下のボタンで確定すると、{plan}のご請求から"
            "{amount}を差し引きます。"
        ),
        "evidence": "お客様のアカウントで失敗した再生: {count}回（{first}から{last}まで）。",
        "evidence_at": "お客様のアカウントで失敗した再生: {count}回（{first}）。",
        "evidence_one": "お客様のアカウントで失敗した再生: 1回（{first}）。",
        "label_amount": "クレジット",
        "label_plan": "プラン",
        "label_statement": "反映されるご請求日",
        "label_expires": "受付期限",
        "confirm_button": "クレジットを適用する",
        "confirm_note": "クレジットの適用は1回限りです。料金は発生しません。",
        "done_title": "クレジット適用済み",
        "done_heading": "クレジットを適用しました",
        "done_body": (
            "{date}のご請求（{plan}）から{amount}を差し引きます。これ以上の手続きは不要です。"
        ),
        "already_title": "クレジット適用済み",
        "already_heading": "このクレジットはすでに適用されています",
        "already_body": (
            "{when}に{amount}を適用済みで、{date}のご請求に反映されます。"
            "これ以上の手続きは不要です。"
        ),
        "already_generic": "このクレジットはすでに適用されています。これ以上の手続きは不要です。",
        "expired_title": "受付期間終了",
        "expired_heading": "このご案内の受付期間は終了しました",
        "expired_body": "クレジットの受付期限は{when}でした。",
        "expired_help": "クレジットの対象だと思われる場合は、お問い合わせください。確認いたします。",
        "notfound_title": "無効なリンク",
        "notfound_heading": "このリンクは無効です",
        "notfound_body": (
            "リンクが途中で切れているか、新しいリンクに置き換えられた可能性があります。"
            "最新のメッセージのリンクをご利用いただくか、お問い合わせください。"
        ),
        "forbidden_title": "もう一度ご確認ください",
        "forbidden_heading": "このリクエストを確認できませんでした",
        "forbidden_body": (
            "変更は行われていません。リンクをもう一度開き、そのページのボタンを押してください。"
            "このサイトではCookieを有効にする必要があります。"
        ),
        "support": "お困りの場合は {phone} にお電話いただくか、こちらをご覧ください:",
    },
}

for _language, _more in MORE_TEXTS.items():
    TEXTS[_language].update(_more)
# The languages added for issue 15 keep all their texts in one module per pair.
TEXTS.update(TEXTS_IT_NL)
TEXTS.update(TEXTS_PL_TR)
TEXTS.update(TEXTS_KO_AR)
for _language, _more in STATUS_TEXTS.items():
    TEXTS[_language].update(_more)
for _language, _more in APPEAL_TEXTS.items():
    TEXTS[_language].update(_more)


def texts_for(language: str) -> Mapping[str, str]:
    """The texts of `language` ("pt"), or English when there are none."""
    return TEXTS.get(language, TEXTS[DEFAULT_LANGUAGE])
