#!/usr/bin/python3
"""elf-exports.py LIB: print the soname of an ELF64 little-endian shared library
("soname X"), then its exported functions ("func NAME"), sorted. The guest has no
binutils; this reads .dynamic, .dynsym and .dynstr directly."""
import struct
import sys

DT_SONAME = 14
STB_GLOBAL, STB_WEAK = 1, 2
STT_FUNC = 2
SHN_UNDEF = 0


def main(path):
    data = open(path, "rb").read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        sys.exit("not an ELF64 little-endian file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    sections = []
    for i in range(shnum):
        name, typ, _flags, _addr, off, size, link, _info, _align, entsize = \
            struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
        sections.append((name, typ, off, size, link, entsize))

    def cstr(off):
        return data[off:data.index(b"\0", off)].decode()

    SHT_DYNSYM, SHT_DYNAMIC = 11, 6
    out = []
    for _name, typ, off, size, link, entsize in sections:
        strtab = sections[link][2]
        if typ == SHT_DYNAMIC:
            for j in range(size // 16):
                tag, val = struct.unpack_from("<qQ", data, off + j * 16)
                if tag == DT_SONAME:
                    print("soname " + cstr(strtab + val))
        elif typ == SHT_DYNSYM:
            for j in range(size // entsize):
                st_name, st_info, _other, st_shndx, _value, _size = \
                    struct.unpack_from("<IBBHQQ", data, off + j * entsize)
                bind, kind = st_info >> 4, st_info & 0xF
                if kind == STT_FUNC and bind in (STB_GLOBAL, STB_WEAK) \
                        and st_shndx != SHN_UNDEF:
                    out.append("func " + cstr(strtab + st_name))
    for line in sorted(out):
        print(line)


if __name__ == "__main__":
    main(sys.argv[1])
