"""goAML XML: build a report from a SAR, validate it against the FIU's schema and against the rules no schema says.

Why two checks. The UNODC schema says what a report may look like; it does not know that 1900-01-01 is the
placeholder a migration left for "unknown", that a transaction number appearing twice makes the FIU drop one
of them, or that a transaction has exactly one source and one destination (the schema's choice allows other
shapes, ``involved_parties`` among them, that Pitboss never means). An export is ready only when both agree.

How the report says the operator's data (docs/SARS.md, "What is exported"):

* the subject is the case's player, identified from KYC: the best approved identity document's number is the
  ``ssn`` (goAML requires one for the reporting entity's own client; a national identity card first, then a
  residence permit, a passport, a driving licence), a passport is also ``passport_number``/``passport_country``,
  the document's issuing country is the nationality (else the country of residence) and the document is the
  ``identification``; the occupation is the MLRO's, from the source-of-funds review (the platform has none);
* an STR's transactions are the ledger's deposits and withdrawals linked to the case: a deposit goes from the
  player's payment instrument (``t_from``/``from_account``: the payment method and the instrument's fingerprint,
  which is all the operator holds) to the player's account at the operator (``t_to_my_client``/``to_account``,
  the player as its signatory); a withdrawal the other way;
* a SAR's activity names the player as the one report party;
* lookup codes (funds, transmission mode, account type...) are the FIU's, mapped in ``GOAML_LOOKUPS``; goAML's
  ``-`` (unknown) otherwise.

Nothing here writes: :func:`build` reads the SAR, its player and the ledger; :func:`validate` reads the schema.
"""

from __future__ import annotations

from apps.sars.goaml.build import DEPOSIT_TYPES, REPORTABLE_TYPES, WITHDRAWAL_TYPES, build, transactions_of
from apps.sars.goaml.validate import Checked, Problem, load_schema, rule_problems, schema_problems, validate

__all__ = [
    "DEPOSIT_TYPES",
    "REPORTABLE_TYPES",
    "WITHDRAWAL_TYPES",
    "Checked",
    "Problem",
    "build",
    "load_schema",
    "rule_problems",
    "schema_problems",
    "transactions_of",
    "validate",
]
