"""make layout: each file of the addons with its line count and what it owns
(the first line of its module docstring, else of its first class's)."""

import ast
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent
FOLDERS = (
    "backorder_po_link/models",
    "backorder_po_link/wizards",
    "backorder_po_link_queue/models",
)


def owns(path):
    if path.suffix == ".sql":
        for line in path.read_text().splitlines():
            if line.startswith("--"):
                return line.lstrip("- ").strip()
        return ""
    tree = ast.parse(path.read_text())
    doc = ast.get_docstring(tree)
    if not doc:
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and ast.get_docstring(node):
                doc = ast.get_docstring(node)
                break
    first = (doc or "").strip().split("\n\n")[0].replace("\n", " ")
    return first.split(". ")[0].rstrip(".") + "." if first else ""


def main():
    total = 0
    for folder in FOLDERS:
        print(f"{folder}/")
        for path in sorted((root / folder).iterdir()):
            if path.suffix not in (".py", ".sql") or path.name == "__init__.py":
                continue
            lines = len(path.read_text().splitlines())
            total += lines
            print(f"  {lines:5d}  {path.name:34s} {owns(path)}")
    print(f"  {total:5d}  in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
