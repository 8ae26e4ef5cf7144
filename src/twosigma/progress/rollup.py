"""The roll-up statement: run by the app (progress/repository.py) and, compiled, by the bench's raw baseline
(bench/raw_app.py).

Set-based SQL that is clearer as text than as Core: its parameters and result columns are declared once, below
(`ROLL_UP`), and its rows are read by those names. tests/progress/test_rollup_equivalence.py runs it against a
brute-force mean on random trees, so a renamed table or column fails there.
"""

from sqlalchemy import DateTime, Integer, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY

# The upsert of every ancestor's percent, in one statement: the hot write.
#
# Below the root, each ancestor's published subtree is walked: a few hundred items at most in a large course. The
# LATERAL subqueries (OFFSET 0 keeps the planner from flattening them) make each step an index lookup: the planner
# cannot estimate a recursive walk and otherwise hashes every item of every course. The root's subtree is the whole
# course but for what hangs under an unpublished module, so it is computed the other way round, without walking the
# course: the course's item count and the sum of the user's rows in the offering (each is an item of the course),
# minus the items under unpublished modules and their rows (usually none; UNION counts nested ones once). For a
# 10,000-item course that is an index count and one user's rows instead of a walk of 2,000 modules and a join of
# 10,000 items with the user's rows.
#
# :ancestors is the item's module and its ancestors, the root last.
_ROLL_UP_SQL = """
WITH RECURSIVE path AS (
    SELECT p.id, p.k FROM unnest(CAST(:ancestors AS int[])) WITH ORDINALITY AS p(id, k)
), subtree(ancestor_id, module_id) AS (
    SELECT id, id FROM path WHERE k < cardinality(CAST(:ancestors AS int[]))
    UNION ALL
    SELECT s.ancestor_id, c.id FROM subtree s
    CROSS JOIN LATERAL (
        SELECT m.id FROM modules m WHERE m.parent_module_id = s.module_id AND m.is_published OFFSET 0
    ) c
), stats AS (
    SELECT s.ancestor_id, count(*) AS n, coalesce(sum(u.progress_percent), 0) AS total
    FROM subtree s
    CROSS JOIN LATERAL (SELECT ci.id FROM content_items ci WHERE ci.module_id = s.module_id OFFSET 0) i
    LEFT JOIN LATERAL (
        SELECT u.progress_percent FROM user_content_progress u
        WHERE u.user_id = :user_id AND u.course_offering_id = :offering_id AND u.content_item_id = i.id OFFSET 0
    ) u ON true
    GROUP BY s.ancestor_id
), hidden(id) AS (
    SELECT m.id FROM modules m WHERE m.course_id = :course_id AND m.parent_module_id IS NOT NULL AND NOT m.is_published
    UNION
    SELECT c.id FROM hidden h JOIN modules c ON c.parent_module_id = h.id
), hidden_items AS (
    SELECT count(ci.id) AS n, coalesce(sum(u.progress_percent), 0) AS total
    FROM hidden h
    JOIN content_items ci ON ci.module_id = h.id
    LEFT JOIN user_content_progress u
        ON u.content_item_id = ci.id AND u.user_id = :user_id AND u.course_offering_id = :offering_id
), all_stats AS (
    SELECT ancestor_id, n, total FROM stats
    UNION ALL
    SELECT
        (SELECT id FROM path WHERE k = cardinality(CAST(:ancestors AS int[]))),
        (SELECT count(*) FROM content_items WHERE course_id = :course_id) - h.n,
        (SELECT coalesce(sum(progress_percent), 0) FROM user_content_progress
         WHERE user_id = :user_id AND course_offering_id = :offering_id) - h.total
    FROM hidden_items h
), percents AS (
    SELECT p.id, CASE WHEN a.n > 0 THEN (a.total / a.n)::int ELSE 0 END AS percent
    FROM path p LEFT JOIN all_stats a ON a.ancestor_id = p.id
)
INSERT INTO user_module_progress AS ump
    (user_id, course_offering_id, module_id, progress_percent, started_at, completed_at)
SELECT :user_id, :offering_id, id, percent, :now, CASE WHEN percent = 100 THEN CAST(:now AS timestamptz) END
FROM percents
ON CONFLICT (user_id, course_offering_id, module_id) DO UPDATE SET
    progress_percent = excluded.progress_percent,
    completed_at = coalesce(ump.completed_at, excluded.completed_at)
RETURNING module_id, progress_percent, completed_at
"""

ROLL_UP = (
    text(_ROLL_UP_SQL)
    .bindparams(
        bindparam("user_id", type_=Integer),
        bindparam("offering_id", type_=Integer),
        bindparam("ancestors", type_=ARRAY(Integer)),
        bindparam("course_id", type_=Integer),
        bindparam("now", type_=DateTime(timezone=True)),
    )
    .columns(module_id=Integer, progress_percent=Integer, completed_at=DateTime(timezone=True))
)
