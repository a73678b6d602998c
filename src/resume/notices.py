"""Our default notices, in each language we serve (issue #11, item 6).

A dealer may write its own (resume.dealers.Credit); these are the words it starts with. Each
language's text has its own version id, stored with every consent given under it.
"""

FCRA_NOTICE = (
    'By pressing "I agree" below, you understand that you are providing written '
    "instructions to {dealer} under the Fair Credit Reporting Act, authorizing {dealer} to "
    "obtain information from your personal credit profile or other information from a "
    "consumer reporting agency, solely to pre-qualify you for financing of a vehicle. This is "
    "a soft inquiry: it does not affect your credit score and is not an application for "
    "credit. The estimate you see is not an offer of credit; any offer depends on a full "
    "application and the lender's approval."
)

# The same notice in Spanish, for Spanish-speaking shoppers in the US: the same meaning,
# written as a person reads it, not word for word.
FCRA_NOTICE_ES = (
    'Al presionar "Acepto" a continuación, usted entiende que está dando instrucciones por '
    "escrito a {dealer}, conforme a la Ley de Informe Justo de Crédito (Fair Credit Reporting "
    "Act), y que autoriza a {dealer} a obtener información de su perfil de crédito personal u "
    "otra información de una agencia de informes de crédito del consumidor, únicamente para "
    "saber si usted precalifica para el financiamiento de un vehículo. Esta es una consulta "
    "suave: no afecta su puntaje de crédito y no es una solicitud de crédito. El estimado que "
    "usted ve no es una oferta de crédito; cualquier oferta depende de una solicitud completa y "
    "de la aprobación del prestamista."
)
