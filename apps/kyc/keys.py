"""Key rotation of the encrypted KYC columns: every token re-encrypted with the newest KYC_FIELD_KEYS key
(MultiFernet.rotate), in batches, with SQL on the raw column (the model field would decrypt and re-encrypt the
same way, but loading whole rows is not needed)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from django.db import connection, transaction

from apps.audit.services import AuditActor, audit_log
from apps.kyc import crypto

COLUMNS = (("kyc_document", "number"), ("kyc_vendor", "secret"))


def rotate_keys(*, actor: AuditActor, batch: int = 500) -> dict[str, int]:
    counts: dict[str, int] = {}
    newest = Fernet(crypto.field_keys()[0])  # the key that encrypts
    for table, column in COLUMNS:
        done, after = 0, 0
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT id, {column} FROM {table} WHERE id > %s AND {column} IS NOT NULL AND {column} <> '' "  # noqa: S608
                    f"ORDER BY id LIMIT %s FOR UPDATE",
                    [after, batch],
                )
                rows = cursor.fetchall()
                if not rows:
                    break
                for pk, token in rows:
                    after = pk
                    try:
                        newest.decrypt(token.encode())
                        continue  # already under the newest key
                    except InvalidToken:  # an older key's token: rotated below
                        pass
                    cursor.execute(
                        f"UPDATE {table} SET {column} = %s WHERE id = %s",  # noqa: S608
                        [crypto.reencrypt(token), pk],
                    )
                    done += 1
        counts[table] = done
    audit_log(actor=actor, action="kyc.keys_rotated", target=None, data=counts)
    return counts
