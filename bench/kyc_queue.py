"""The KYC review queue at 100,000 open reviews, as a ratio to the render floor of an empty admin page (issue 14),
measured as page_budget measures (its URLconf with the floor page, its OTP-verified clients, interleaved rounds,
the median of each round's page / floor ratio).

Seeded once by bulk SQL (``KYC_REVIEWS``, default 100,000; not 100,000 uploads through intake): an open review per
player, due times spread from two days overdue to two days ahead, a pending passport on each and a utility bill on
every other one (rows only: the list never opens a file), one review in fifty assigned to the bench KYC Officer.
Timed for the MLRO (a lead: every review) and the KYC Officer (their own): the queue's first page, overdue,
unassigned, by document type, and one review's page.
"""

from __future__ import annotations

import os
import statistics
import time

from django.db import connection, transaction
from django.test import override_settings

from apps.kyc.models import Review
from apps.staff import roles
from bench.page_budget import FLOOR, ROUNDS, _client, _getter, _queries, _staff
from bench.players import ensure_players
from bench.timing import fmt, per_call

QUEUE = "/admin/kyc/review/"
REVIEWS = int(os.environ.get("KYC_REVIEWS", "100000"))
ROLES = (roles.MLRO, roles.KYC_OFFICER)

REVIEWS_SQL = """
INSERT INTO kyc_review (player_id, state, level_sought, due_at, created_at, assignee_id)
SELECT p.id, 'open', 1 + (p.id %% 2), now() + ((p.id %% 97) - 48) * interval '1 hour',
       now() - ((p.id %% 71) + 1) * interval '1 hour', CASE WHEN p.id %% 50 = 0 THEN %(officer)s END
FROM players_player p
WHERE NOT EXISTS (SELECT 1 FROM kyc_review r WHERE r.player_id = p.id AND r.state = 'open')
ORDER BY p.id
LIMIT %(n)s
"""
DOCUMENTS_SQL = """
INSERT INTO kyc_document (player_id, review_id, type, state, file_name, file_kind, content_type, size, sha256,
                          issuing_country, number_hash, source, uploaded_at, api_client, vendor_reference,
                          rejection_reason, message)
SELECT r.player_id, r.id, t.type, 'pending', 'kyc/bench/' || r.id || '-' || t.type || '.' || t.kind, t.kind,
       t.content_type, 1000, repeat('0', 64), 'GB', '', 'demo', r.created_at, '', '', '', ''
FROM kyc_review r
CROSS JOIN (VALUES ('passport', 'jpg', 'image/jpeg'), ('utility_bill', 'pdf', 'application/pdf'))
     AS t(type, kind, content_type)
WHERE r.state = 'open' AND (t.type = 'passport' OR r.id % 2 = 0)
  AND NOT EXISTS (SELECT 1 FROM kyc_document d WHERE d.review_id = r.id)
"""


def _seed(officer_id: int) -> int:
    have = Review.objects.filter(state=Review.State.OPEN).count()
    if have < REVIEWS:
        print(f"seeding {REVIEWS - have:,} open KYC reviews (bulk SQL, once)...", flush=True)
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(REVIEWS_SQL, {"officer": officer_id, "n": REVIEWS - have})
            cursor.execute(DOCUMENTS_SQL)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE kyc_review")
            cursor.execute("ANALYZE kyc_document")
        print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
    return Review.objects.filter(state=Review.State.OPEN).count()


def run() -> None:
    players = ensure_players()
    officer = _staff("bench-kyc-officer", roles.KYC_OFFICER)
    open_reviews = _seed(officer.pk)
    review = Review.objects.filter(state=Review.State.OPEN, assignee=officer).order_by("due_at", "id").first()
    assert review is not None
    pages = {
        "floor: empty admin page (baseline)": FLOOR,
        "queue, first page (due first)": QUEUE,
        "queue, overdue": f"{QUEUE}?sla=overdue",
        "queue, unassigned": f"{QUEUE}?assignee=unassigned",
        "queue, passport waiting, level 1": f"{QUEUE}?document=passport&level=1",
        "queue, assigned to me": f"{QUEUE}?assignee=me",
        "review page (list columns only: no file)": f"{QUEUE}{review.pk}/change/",
    }
    baseline = "floor: empty admin page (baseline)"
    users = {roles.MLRO: _staff("bench-kyc-lead", roles.MLRO), roles.KYC_OFFICER: officer}
    times: dict[str, dict[str, list[float]]] = {role: {label: [] for label in pages} for role in ROLES}
    queries: dict[str, dict[str, int]] = {role: {} for role in ROLES}
    with override_settings(ROOT_URLCONF="bench.page_budget"):
        clients = {role: _client(users[role]) for role in ROLES}
        for role, client in clients.items():
            for label, url in pages.items():
                _getter(client, url)()  # warm caches and plans
                queries[role][label] = _queries(_getter(client, url))
        for _ in range(ROUNDS):
            for role, client in clients.items():
                for label, url in pages.items():
                    times[role][label].append(per_call(_getter(client, url), n=3, repeats=1))
    print(f"\n== kyc_queue: {open_reviews:,} open reviews, {players:,} players (baseline: an empty admin page) ==")
    for role in ROLES:
        floors = times[role][baseline]
        print(f"  {role}")
        for label, samples in times[role].items():
            ratio = statistics.median(page / floor for page, floor in zip(samples, floors, strict=True))
            print(
                f"    {label:<44} {fmt(statistics.median(samples))}   {ratio:5.2f}x  {queries[role][label]:3d} queries"
            )
