# Run through `odoo-bin shell` (make audit DB=name): check every invariant of
# the backorder links; print what is wrong and exit non-zero if anything is.
import sys

problems = env["backorder.audit"]._audit()  # noqa: F821
for check, detail in problems:
    print(f"AUDIT FAIL  {check}: {detail}")
links = env["backorder.po.link"].search_count([])  # noqa: F821
print(f"audit: {links} links checked, {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
