"""Texts of the "where is my credit?" page (`/credits`). Merged into `texts.TEXTS`; same rules
(plain text, `str.format` placeholders, every language has every key)."""

# ruff: noqa: E501, RUF001

from __future__ import annotations

STATUS_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "credits_title": "Where is my credit?",
        "credits_heading": "Where is my credit?",
        "credits_intro": "Enter the e-mail address of your {service} account. We will e-mail it what we know about your credits for the outages of the last 90 days, with a fresh link for any credit you can still claim.",
        "credits_label": "E-mail address",
        "credits_button": "Send me my credits",
        "credits_sent": "Thank you. If this address belongs to a subscriber, we have sent what we know to it. It can take a few minutes to arrive.",
        "credits_invalid": "Please enter an e-mail address, like name@example.com.",
        "credits_again": "This form had expired. Nothing was sent; please submit it again.",
    },
    "es": {
        "credits_title": "¿Dónde está mi crédito?",
        "credits_heading": "¿Dónde está mi crédito?",
        "credits_intro": "Escribe la dirección de correo de tu cuenta de {service}. Le enviaremos lo que sabemos de tus créditos por las interrupciones de los últimos 90 días, con un enlace nuevo para cualquier crédito que aún puedas solicitar.",
        "credits_label": "Correo electrónico",
        "credits_button": "Enviarme mis créditos",
        "credits_sent": "Gracias. Si esta dirección pertenece a un suscriptor, le hemos enviado lo que sabemos. Puede tardar unos minutos en llegar.",
        "credits_invalid": "Escribe una dirección de correo, como nombre@ejemplo.com.",
        "credits_again": "Este formulario había caducado. No se ha enviado nada; vuelve a enviarlo.",
    },
    "fr": {
        "credits_title": "Où est mon crédit ?",
        "credits_heading": "Où est mon crédit ?",
        "credits_intro": "Saisissez l’adresse e-mail de votre compte {service}. Nous y enverrons ce que nous savons de vos crédits pour les interruptions des 90 derniers jours, avec un nouveau lien pour tout crédit que vous pouvez encore demander.",
        "credits_label": "Adresse e-mail",
        "credits_button": "M’envoyer mes crédits",
        "credits_sent": "Merci. Si cette adresse appartient à un abonné, nous lui avons envoyé ce que nous savons. Cela peut prendre quelques minutes.",
        "credits_invalid": "Saisissez une adresse e-mail, par exemple nom@exemple.fr.",
        "credits_again": "Ce formulaire avait expiré. Rien n’a été envoyé ; veuillez le soumettre à nouveau.",
    },
    "de": {
        "credits_title": "Wo ist meine Gutschrift?",
        "credits_heading": "Wo ist meine Gutschrift?",
        "credits_intro": "Geben Sie die E-Mail-Adresse Ihres {service}-Kontos ein. Wir senden dorthin, was wir über Ihre Gutschriften für die Störungen der letzten 90 Tage wissen, mit einem neuen Link für jede Gutschrift, die Sie noch einlösen können.",
        "credits_label": "E-Mail-Adresse",
        "credits_button": "Meine Gutschriften senden",
        "credits_sent": "Danke. Falls diese Adresse zu einem Abonnenten gehört, haben wir ihr gesendet, was wir wissen. Das kann einige Minuten dauern.",
        "credits_invalid": "Bitte geben Sie eine E-Mail-Adresse ein, etwa name@beispiel.de.",
        "credits_again": "Dieses Formular war abgelaufen. Es wurde nichts gesendet; bitte senden Sie es erneut ab.",
    },
    "pt": {
        "credits_title": "Onde está meu crédito?",
        "credits_heading": "Onde está meu crédito?",
        "credits_intro": "Informe o e-mail da sua conta {service}. Enviaremos para ele o que sabemos sobre seus créditos pelas interrupções dos últimos 90 dias, com um link novo para qualquer crédito que você ainda possa resgatar.",
        "credits_label": "E-mail",
        "credits_button": "Enviar meus créditos",
        "credits_sent": "Obrigado. Se este endereço pertence a um assinante, enviamos para ele o que sabemos. Pode levar alguns minutos para chegar.",
        "credits_invalid": "Informe um endereço de e-mail, como nome@exemplo.com.",
        "credits_again": "Este formulário expirou. Nada foi enviado; envie-o novamente.",
    },
    "ja": {
        "credits_title": "クレジットはどこ？",
        "credits_heading": "クレジットはどこ？",
        "credits_intro": "{service}アカウントのメールアドレスを入力してください。過去90日間の障害に関するクレジットについてわかっていることを、まだお手続きできるクレジットの新しいリンクとあわせて、そのアドレスにお送りします。",
        "credits_label": "メールアドレス",
        "credits_button": "クレジットの状況を送る",
        "credits_sent": "ありがとうございます。このアドレスがご契約者のものであれば、わかっていることをお送りしました。届くまで数分かかることがあります。",
        "credits_invalid": "name@example.com のようなメールアドレスを入力してください。",
        "credits_again": "このフォームの有効期限が切れていました。何も送信されていません。もう一度送信してください。",
    },
}
