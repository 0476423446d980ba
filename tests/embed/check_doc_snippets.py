#!/usr/bin/env python3
"""Checks that every snippet a doc quotes is the text of its example.

A quote in the doc is a fenced block right after a mark naming the file
(relative to the doc) and the region:

    <!-- snippet: examples/report_example.cpp report -->
    ```cpp
    ...
    ```

The region is the example's lines between `// doc:begin report` and
`// doc:end report`, with their common indentation removed. Every example
file in the doc's examples/ folder with a region must be quoted, so a
snippet cannot be added to an example and forgotten in the doc.
"""

import pathlib
import re
import sys
import textwrap

MARK = re.compile(r"<!-- snippet: (\S+) (\S+) -->\n```\w*\n(.*?)```", re.S)
REGION = re.compile(r"^[ \t]*// doc:begin (\S+)\n(.*?)^[ \t]*// doc:end \1\n", re.S | re.M)


def regions(path):
    return {name: textwrap.dedent(body) for name, body in REGION.findall(path.read_text())}


def main(doc_path):
    doc = pathlib.Path(doc_path)
    text = doc.read_text()
    problems = []
    quoted = set()
    for match in MARK.finditer(text):
        file, name, quote = match.groups()
        line = text.count("\n", 0, match.start()) + 1
        source = doc.parent / file
        if not source.is_file():
            problems.append(f"{doc}:{line}: quotes {file}, which does not exist")
            continue
        found = regions(source)
        if name not in found:
            problems.append(f"{doc}:{line}: {file} has no region '{name}' (// doc:begin {name} ... // doc:end {name})")
            continue
        quoted.add((source.resolve(), name))
        if quote != found[name]:
            problems.append(f"{doc}:{line}: the quote of {file} '{name}' differs from the file; copy the region again")
    for source in sorted((doc.parent / "examples").glob("*.cpp")):
        for name in regions(source):
            if (source.resolve(), name) not in quoted:
                problems.append(f"{source}: region '{name}' is quoted nowhere in {doc.name}")
    for problem in problems:
        print(problem)
    if not quoted:
        print(f"{doc}: no snippet marks found")
        return 1
    print(f"{len(quoted)} snippet(s) checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
