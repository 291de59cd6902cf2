"""Check a release wheel: its tags (abi3, manylinux_2_17 / manylinux2014 x86_64), that the
extension carries no debug info, and that the base install pulls no web framework.

Usage: python check_wheel.py WHEEL. Standard library only (it runs in a bare venv).
"""

import struct
import sys
import zipfile

WEB = ("fastapi", "starlette", "uvicorn", "flask", "django", "aiohttp")


def section_names(elf: bytes) -> list:
    """The section names of a 64-bit little-endian ELF file."""
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        raise SystemExit("the extension is not a 64-bit little-endian ELF file")
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    headers = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
    strtab_off, strtab_size = headers[shstrndx][4], headers[shstrndx][5]
    strtab = elf[strtab_off:strtab_off + strtab_size]
    return [strtab[h[0]:strtab.index(b"\0", h[0])].decode() for h in headers]


def main(path: str) -> None:
    name = path.rsplit("/", 1)[-1]
    problems = []
    if "-cp39-abi3-" not in name:
        problems.append(f"{name}: not an abi3 wheel for CPython >= 3.9")
    if "manylinux_2_17_x86_64" not in name and "manylinux2014_x86_64" not in name:
        problems.append(f"{name}: not tagged manylinux_2_17 / manylinux2014 x86_64")
    with zipfile.ZipFile(path) as wheel:
        names = wheel.namelist()
        wheel_meta = next(n for n in names if n.endswith(".dist-info/WHEEL"))
        tags = [line.split(": ", 1)[1] for line in wheel.read(wheel_meta).decode().splitlines()
                if line.startswith("Tag: ")]
        if not any("manylinux_2_17_x86_64" in t for t in tags):
            problems.append(f"WHEEL tags {tags}: no manylinux_2_17_x86_64")
        metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        extensions = [n for n in names if n.endswith(".so")]
        if len(extensions) != 1:
            problems.append(f"expected one extension module, found {extensions}")
        for ext in extensions:
            data = wheel.read(ext)
            debug = [s for s in section_names(data) if s.startswith((".debug", ".zdebug"))]
            if debug:
                problems.append(f"{ext} carries debug info: {debug}")
            print(f"{ext}: {len(data) / 1e6:.1f} MB, debug sections: {debug or 'none'}")
    requires = [line.split(": ", 1)[1] for line in metadata.splitlines()
                if line.startswith("Requires-Dist: ")]
    for req in requires:
        if "extra ==" not in req and req.split()[0].lower().startswith(WEB):
            problems.append(f"the base install requires a web framework: {req}")
    if "Provides-Extra: fastapi" not in metadata:
        problems.append("no 'fastapi' extra")
    if problems:
        raise SystemExit("wheel check failed:\n  " + "\n  ".join(problems))
    print(f"wheel check: {name} ok (tags {', '.join(tags)})")


if __name__ == "__main__":
    main(sys.argv[1])
