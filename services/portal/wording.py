"""What parents and managers read, in French: the services' stable problem codes and statuses turned
into plain words, in one place. A code not listed here falls back on the service's own detail."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup, escape

from shared.formatting import CONTACT_FORM_NAMES, DEFAULT_HELP_CHANNEL, HELP_SENTENCES, HelpChannel

PROBLEMS = {
    "service-unreachable": "Le service ne répond pas pour le moment. Rien n'a été enregistré : réessayez dans "
                           "quelques secondes.",
    "dependency-unavailable": "Le service redémarre. Rien n'a été enregistré : réessayez dans quelques secondes.",
    "intake-unavailable": "Votre demande n'a pas été enregistrée : le service est très sollicité.",
    "intake-busy": "Beaucoup de familles envoient leur demande en ce moment.",
    "ip-rate-limited": "Trop de demandes sont parties de cette connexion.",
    "rate-limited": "Trop de demandes ont été envoyées depuis votre compte.",
    "window-not-open": "Les inscriptions ne sont pas encore ouvertes.",
    "window-closed": "Les inscriptions sont closes.",
    "campaign-not-found": "Cette campagne n'existe pas ou n'est plus ouverte.",
    "household-not-found": "Déclarez d'abord votre foyer.",
    "household-incomplete": "Cet enfant ne figure pas (ou plus) dans votre foyer.",
    "household-invalid": "Certaines informations du foyer sont à corriger ; rien n'a été modifié.",
    "application-invalid": "La demande ne respecte pas les règles de la campagne ; corrigez les choix signalés.",
    "already-applied": "Cet enfant a déjà une demande en cours pour cette campagne : une seule demande est gardée.",
    "campaign-full": "Toutes les activités choisies sont complètes, listes d'attente comprises.",
    "child-already-declared": "Cet enfant est déjà déclaré dans votre foyer.",
    "child-not-found": "Cet enfant ne figure pas dans votre foyer.",
    "application-not-found": "Cette demande est introuvable (une demande toute récente peut mettre quelques "
                             "secondes à apparaître).",
    "offer-expired": "Le délai pour répondre est dépassé : la place est passée à la liste d'attente.",
    "no-offer": "Aucune place n'est proposée pour cette demande.",
    "cannot-withdraw": "Cette demande ne peut plus être retirée.",
    "not-decided-yet": "La décision n'a pas encore été prise.",
    "message-not-found": "Ce message est introuvable.",
    "precondition-failed": "Quelqu'un d'autre a modifié la campagne entre-temps : la page a été rechargée, "
                           "refaites votre modification.",
    "precondition-required": "La version de la campagne manque : rechargez la page.",
    "validation-failed": "Certains champs sont à corriger.",
    "campaign-invalid": "Certains champs sont à corriger ; rien n'a été enregistré.",
    "campaign-not-closed": "Les inscriptions ne sont pas encore closes : l'attribution viendra après.",
    "already-published": "Les résultats de cette campagne sont déjà publiés.",
    "first-come-campaign": "Une campagne « premier arrivé, premier servi » est attribuée au fil des demandes : "
                           "il n'y a rien à publier.",
    "token-expired": "Votre session a expiré : reconnectez-vous.",
    "token-missing": "Connectez-vous pour continuer.",
    "invalid-token": "Votre session n'est plus valable : reconnectez-vous.",
    "role-missing": "Votre compte n'a pas accès à cette page.",
    # Supporting documents and validated facts (web/documents.py, web/agent_documents.py).
    "document-too-large": "Ce fichier dépasse 5 Mo : envoyez un fichier plus léger (une photo moins grande, un PDF "
                          "compressé). Rien n'a été enregistré.",
    "document-type-refused": "Ce fichier n'est ni un PDF, ni une image JPEG ou PNG (son contenu est vérifié, pas "
                             "seulement son nom) : enregistrez-le dans l'un de ces formats. Rien n'a été enregistré.",
    "document-invalid": "Le justificatif n'a pas été enregistré : corrigez ce qui est signalé.",
    "document-not-found": "Ce justificatif est introuvable (il a peut-être été supprimé).",
    "document-supports-validated-fact": "Ce justificatif n'a pas été supprimé : un agent de la Ville a validé un fait "
                                        "de votre foyer à partir de lui, et il est gardé tant que cette validation "
                                        "tient.",
    "document-unknown": "Ce justificatif n'est pas un de ceux de la famille.",
    "fact-validation-invalid": "La validation n'a pas été enregistrée : corrigez ce qui est signalé.",
    "family-not-found": "Aucune famille n'a ce compte ici (ni foyer déclaré, ni demande).",
}

BY_STATUS = {
    400: "La demande n'a pas pu être comprise.",
    401: "Connectez-vous pour continuer.",
    403: "Votre compte n'a pas accès à cette action.",
    404: "Introuvable.",
    409: "L'action n'est pas possible dans l'état actuel.",
    412: PROBLEMS["precondition-failed"],
    422: "Certains champs sont à corriger.",
    429: "Trop de demandes en même temps.",
    500: "Une erreur s'est produite de notre côté.",
    503: PROBLEMS["service-unreachable"],
}

# Field-level codes of the registrations service, whose details are written in English.
FIELD_PROBLEMS = {
    "sworn-statement-required": "Cochez l'attestation sur l'honneur.",
    "no-choice": "Classez au moins une activité.",
    "too-many-choices": "Trop de choix pour cette campagne.",
    "duplicate-choice": "Cette activité est classée deux fois.",
    "offer-not-in-campaign": "Cette activité n'appartient pas à la campagne.",
    "age-out-of-range": "L'âge de l'enfant ne correspond pas à cette activité.",
    "tranche-out-of-range": "La tranche va de 1 à 10.",
    "quotient-justification-missing": "Indiquez la date du justificatif de quotient familial.",
    "quotient-tranche-missing": "Indiquez la tranche de quotient familial justifiée.",
    "date-in-future": "La date ne peut pas être dans le futur.",
    "arrondissement-unknown": "L'arrondissement va de 1 à 20 (laissez vide hors de Paris).",
    "name-empty": "Indiquez le nom comme sur l'état civil.",
    "too-long": "Au plus 100 caractères.",
    "birth-date-too-old": "Un enfant a au plus 25 ans.",
    "too-many-children": "Un foyer compte au plus 12 enfants.",
    "postal-address-missing": "Indiquez l'adresse où envoyer les courriers.",
    "address-part-empty": "Ce champ de l'adresse est obligatoire.",
    "postal-code-invalid": "Le code postal compte cinq chiffres.",
    "document-empty": "Ce fichier est vide : choisissez le bon fichier.",
    "document-too-large": PROBLEMS["document-too-large"],
    "document-type-refused": PROBLEMS["document-type-refused"],
    "filename-invalid": "Le nom du fichier est trop long ou contient des caractères spéciaux : renommez-le.",
    "fact-unknown": "Choisissez ce que ce justificatif prouve.",
    "child-missing": "Choisissez l'enfant concerné.",
    "child-unknown": "Cet enfant ne figure pas (ou plus) dans le foyer.",
    "child-not-applicable": "Seule l'AEEH concerne un enfant en particulier.",
    "value-not-boolean": "Choisissez oui ou non.",
    "effective-date-out-of-reach": "La date d'effet est à moins d'un an d'aujourd'hui, avant ou après.",
    "document-unknown": "Ce justificatif n'est pas un de ceux de la famille.",
}

# The facts a city agent validates from a supporting document (registrations' VALIDATED_FACTS).
FACTS = {
    "quotient_tranche": "Quotient familial",
    "single_parent": "Famille monoparentale",
    "disability_allowance": "AEEH (allocation d'éducation de l'enfant handicapé)",
}
FACT_STATUSES = {"declared": "déclaré par la famille, pas encore validé", "validated": "validé par un agent"}

# A family's history (registrations' `GET /household/history`): what was done, and the fields' names.
HISTORY_ACTIONS = {
    "household.declare": "Foyer déclaré",
    "household.correct": "Foyer modifié",
    "household.fact_validate": "Fait validé sur justificatif",
    "child.add": "Enfant ajouté",
    "child.change": "Enfant modifié",
    "child.remove": "Enfant retiré du foyer",
    "document.upload": "Justificatif envoyé",
    "document.delete": "Justificatif supprimé",
}
FIELD_NAMES = {
    "single_parent": "famille monoparentale", "quotient_tranche": "tranche de quotient familial",
    "quotient_justified_on": "date du justificatif de quotient", "arrondissement": "arrondissement",
    "postal_mail": "avis par courrier", "postal_address": "adresse postale", "email": "adresse électronique",
    "language": "langue des messages", "validations": "faits validés", "first_name": "prénom", "last_name": "nom",
    "birth_date": "date de naissance", "school": "école", "school_arrondissement": "arrondissement de l'école",
    "disability_allowance": "AEEH", "removed": "retrait", "fact": "fait justifié", "child_id": "enfant",
    "media_type": "format", "size_bytes": "taille", "filename": "nom du fichier",
}

RETRY_CODES = {"intake-unavailable", "intake-busy", "ip-rate-limited", "rate-limited", "service-unreachable",
               "dependency-unavailable"}

APPLICATION_STATUSES = {
    "pending": "en cours d'enregistrement",
    "received": "reçue, en attente de l'attribution",
    "allocated": "place proposée",
    "waitlisted": "sur liste d'attente",
    "rejected": "non retenue",
    "confirmed": "place confirmée",
    "declined": "place refusée",
    "expired": "délai dépassé",
    "withdrawn": "retirée",
}

CAMPAIGN_STATUSES = {
    "draft": "brouillon", "scheduled": "à venir", "open": "ouverte", "closed": "close",
    "allocated": "attribuée", "archived": "archivée",
}

# A campaign's waiting room, as its managers read it live.
ROOM_PHASES = {
    "not_yet": "pas encore ouverte", "pre_queue": "les familles arrivent avant l'ouverture",
    "open": "les familles sont admises", "closed": "fermée",
}

MODES = {
    "fcfs": "premier arrivé, premier servi",
    "lottery": "tirage au sort",
    "priority_lottery": "tirage au sort avec priorités",
}

KINDS = {
    "sport_vacances": "Paris Sport Vacances",
    "centre_loisirs_mercredi": "Centres de loisirs du mercredi",
    "conservatoire_examen": "Examens d'entrée au conservatoire",
}

CRITERIA = {
    "single_parent": "famille monoparentale",
    "quotient_tranche_at_most": "quotient familial jusqu'à la tranche…",
    "disability_allowance": "enfant bénéficiaire de l'AEEH",
    "sibling_placed": "frère ou sœur déjà admis",
    "resident_of_offer_arrondissement": "habite l'arrondissement de l'activité",
    "not_placed_previous_campaign": "sans place à la campagne précédente",
}

# The reserved-share fields of the campaign form (worded apart from CRITERIA so each label is its own).
RESERVED_SHARE_LABELS = {
    "single_parent": "Part pour les parents isolés (%)",
    "quotient_tranche_at_most": "Part pour les petits quotients (%)",
    "disability_allowance": "Part pour les enfants bénéficiaires de l'AEEH (%)",
    "sibling_placed": "Part pour les fratries déjà admises (%)",
    "resident_of_offer_arrondissement": "Part pour les habitants de l'arrondissement de l'activité (%)",
    "not_placed_previous_campaign": "Part pour les enfants sans place à la campagne précédente (%)",
}

STANDINGS = {
    "admitted": "admis",
    "not_admitted": "complet à votre tour",
    "not_needed": "non nécessaire (un meilleur choix a été obtenu)",
}

OUTCOMES = {"allocated": "place attribuée", "waitlisted": "liste d'attente", "rejected": "non retenue"}

REASONS = {
    "too_old": "l'enfant est trop âgé pour cette activité",
    "too_young": "l'enfant est trop jeune pour cette activité",
    "unknown_offer": "cette activité n'existe plus",
    "waitlist_full": "les listes d'attente étaient complètes",
    "fact_not_validated": "critère non retenu : fait déclaré, non encore validé par un agent",
}

PLACE_STATES = {"offered": "proposée", "accepted": "acceptée", "declined": "refusée", "expired": "expirée",
                "withdrawn": "libérée (demande retirée)"}


def plain_message(status: int, code: str, problem: Mapping[str, Any], retry_after: int | None = None) -> str:
    message = PROBLEMS.get(code) or _french_detail(problem) or BY_STATUS.get(status) or BY_STATUS[500]
    if code in RETRY_CODES and retry_after:
        message = f"{message} Réessayez dans {retry_after} s."
    return message


def field_message(error: Mapping[str, Any]) -> str:
    return FIELD_PROBLEMS.get(str(error.get("code"))) or str(error.get("detail") or "Valeur à corriger.")


def _french_detail(problem: Mapping[str, Any]) -> str | None:
    """The campaigns service writes its details for managers in French; others write in English."""
    detail = problem.get("detail")
    if isinstance(detail, str) and any(ch in detail for ch in "éèàùçêâôî«"):
        return detail
    return None


def help_footer(channel: HelpChannel = DEFAULT_HELP_CHANNEL) -> Markup:
    """The help channel of every page's footer: the sentence every message ends with (shared.formatting),
    the number and the contact form as links."""
    return escape(HELP_SENTENCES["fr"]).format(
        phone=Markup('<a href="tel:{0}">{0}</a>').format(channel.phone),
        form=Markup('<a href="{0}">{1}</a>').format(channel.form_url, CONTACT_FORM_NAMES["fr"]))


# A draw's publication refused (four eyes, scopes): what the manager reads instead of the API's code.
PUBLICATION_REFUSALS = {
    "same-manager": "Vous avez demandé cette publication : un autre gestionnaire doit l'approuver.",
    "no-publication-request": "Personne n'a demandé la publication (ou la demande a été retirée).",
    "second-manager-required": "Cette campagne demande une double validation : demandez la publication, un second "
                               "gestionnaire l'approuvera.",
    "out-of-scope": "Cette campagne ne relève pas de vos droits de gestionnaire.",
}
