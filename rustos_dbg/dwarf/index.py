"""One pass over ``.debug_info``: the raw records every other module works from.

Contract: :func:`build_index` reads the DWARF of a pyelftools ``ELFFile`` it
is given (a kernel image's, :mod:`.source`) in one pass and returns an :class:`Index` of plain Python data; nothing keeps a pyelftools
object afterwards. It records

* every type DIE (structure, union, enumeration, base, pointer, array,
  subroutine, typedef and qualifiers) as a :class:`RawType` keyed by its
  absolute ``.debug_info`` offset, with its members, enumerators, template
  parameters and Rust's ``DW_TAG_variant_part`` (discriminant member and
  variants, ``discr_value`` ``None`` for the default variant);
* the qualified name of each type (namespaces and enclosing types joined with
  ``::``, as rustc spells them: ``rustos::sync::IrqMutex<rustos::heap::KernelHeap>``);
* every variable with a static address (``DW_AT_location`` = ``DW_OP_addr``),
  by qualified name, also reachable by address;
* a member's ``DW_AT_decl_file``/``DW_AT_decl_line`` when it has them (rustc
  gives them to the variant members of an async fn's state machine: the
  source line of each ``Suspend<N>`` is its ``.await``), the file resolved
  through the CU's line program.

References of class ``ref1..ref8/ref_udata`` are CU-relative and are made
absolute here; ``ref_addr`` already is. Forms this reader does not need are
ignored, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from elftools.elf.elffile import ELFFile

TYPE_TAGS = frozenset({
    "DW_TAG_structure_type", "DW_TAG_union_type", "DW_TAG_enumeration_type", "DW_TAG_base_type",
    "DW_TAG_pointer_type", "DW_TAG_reference_type", "DW_TAG_array_type", "DW_TAG_subroutine_type",
    "DW_TAG_typedef", "DW_TAG_const_type", "DW_TAG_volatile_type", "DW_TAG_unspecified_type",
})
#: Tags whose name becomes part of the qualified name of what they contain.
SCOPE_TAGS = frozenset({"DW_TAG_namespace", "DW_TAG_structure_type", "DW_TAG_union_type",
                        "DW_TAG_enumeration_type"})
_CU_RELATIVE = frozenset({"DW_FORM_ref1", "DW_FORM_ref2", "DW_FORM_ref4", "DW_FORM_ref8", "DW_FORM_ref_udata"})
DW_OP_ADDR = 0x03


@dataclass(slots=True)
class RawMember:
    """A ``DW_TAG_member``: name (None if unnamed), byte offset, type offset."""

    name: str | None
    offset: int
    type: int | None
    artificial: bool = False
    decl_file: str | None = None
    decl_line: int | None = None


@dataclass(slots=True)
class RawVariant:
    """One ``DW_TAG_variant``: its discriminant value (None = default) and member."""

    discr_value: int | None
    member: RawMember | None = None


@dataclass(slots=True)
class RawVariantPart:
    """A ``DW_TAG_variant_part``: the discriminant member (None: single variant) and the variants."""

    discr: int | None  # offset of the discriminant member DIE
    discr_member: RawMember | None = None
    variants: list = field(default_factory=list)


@dataclass(slots=True)
class RawType:
    """One type DIE and what its children say about it."""

    offset: int
    tag: str
    name: str | None
    qname: str | None
    size: int | None
    align: int | None
    type: int | None
    declaration: bool = False
    encoding: int | None = None
    count: int | None = None
    containing_type: int | None = None
    members: list = field(default_factory=list)
    enumerators: list = field(default_factory=list)
    params: list = field(default_factory=list)  # (name, type offset)
    variant_part: RawVariantPart | None = None


@dataclass(slots=True)
class RawVariable:
    """A variable with a static address."""

    qname: str
    address: int
    type: int | None
    linkage_name: str | None = None


@dataclass
class Index:
    """Everything recorded by one pass."""

    types: dict = field(default_factory=dict)      # offset -> RawType
    variables: list = field(default_factory=list)  # RawVariable
    elf_symbols: object = None                    # machine.symbols.SymbolTable


def _ref(attr, cu_offset: int) -> int:
    return attr.value + cu_offset if attr.form in _CU_RELATIVE else attr.value


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _discr_value(attr) -> int:
    if isinstance(attr.value, (list, bytes)):  # DW_FORM_block*: little-endian bytes
        return int.from_bytes(bytes(attr.value), "little")
    return attr.value


def _static_address(attr) -> int | None:
    if attr.form != "DW_FORM_exprloc" or not attr.value or attr.value[0] != DW_OP_ADDR:
        return None
    raw = bytes(attr.value[1:9])
    return int.from_bytes(raw, "little") if len(raw) == 8 else None


class _Builder:
    """Turns the flat DIE stream of one CU (with null terminators) into records."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self._cu = self._prog = None
        self._files: dict[int, str | None] | None = None

    def run_cu(self, cu) -> None:
        base = cu.cu_offset
        self._cu, self._files = cu, None
        stack: list = []  # (die_offset, tag, qualified path, record-or-None)
        for die in cu.iter_DIEs():
            if die.tag is None:
                if stack:
                    stack.pop()
                continue
            parent = stack[-1] if stack else None
            record = self._visit(die, base, parent)
            if die.has_children:
                path = parent[2] if parent else ""
                if die.tag in SCOPE_TAGS:
                    name = die.attributes.get("DW_AT_name")
                    if name is not None:
                        path = f"{path}::{_text(name.value)}" if path else _text(name.value)
                stack.append((die.offset, die.tag, path, record))

    def _visit(self, die, base: int, parent):
        tag, attrs = die.tag, die.attributes
        owner = parent[3] if parent else None
        if tag in TYPE_TAGS:
            return self._type(die, base, parent)
        if tag == "DW_TAG_member" and owner is not None:
            member = self._member(attrs, base)
            line = attrs.get("DW_AT_decl_line")
            if line is not None and isinstance(line.value, int):
                member.decl_line = line.value
                member.decl_file = self._file(attrs.get("DW_AT_decl_file"))
            if isinstance(owner, RawType):
                owner.members.append(member)
            elif isinstance(owner, RawVariant):
                owner.member = member
            elif isinstance(owner, RawVariantPart):
                owner.discr_member = member if owner.discr == die.offset else owner.discr_member
            return None
        if tag == "DW_TAG_variant_part" and isinstance(owner, RawType):
            discr = attrs.get("DW_AT_discr")
            owner.variant_part = RawVariantPart(_ref(discr, base) if discr is not None else None)
            return owner.variant_part
        if tag == "DW_TAG_variant" and isinstance(owner, RawVariantPart):
            value = attrs.get("DW_AT_discr_value")
            variant = RawVariant(_discr_value(value) if value is not None else None)
            owner.variants.append(variant)
            return variant
        if tag == "DW_TAG_enumerator" and isinstance(owner, RawType):
            value = attrs.get("DW_AT_const_value")
            owner.enumerators.append((_text(attrs["DW_AT_name"].value), value.value if value else 0))
        elif tag == "DW_TAG_subrange_type" and isinstance(owner, RawType):
            count, upper = attrs.get("DW_AT_count"), attrs.get("DW_AT_upper_bound")
            if count is not None and isinstance(count.value, int):
                owner.count = count.value
            elif upper is not None and isinstance(upper.value, int):
                lower = attrs.get("DW_AT_lower_bound")
                owner.count = upper.value - (lower.value if lower else 0) + 1
        elif tag == "DW_TAG_template_type_param" and isinstance(owner, RawType):
            name, typ = attrs.get("DW_AT_name"), attrs.get("DW_AT_type")
            owner.params.append((_text(name.value) if name else "", _ref(typ, base) if typ else None))
        elif tag == "DW_TAG_variable" and (parent is None or parent[1] in SCOPE_TAGS
                                           or parent[1] == "DW_TAG_compile_unit"):
            self._variable(attrs, base, parent)
        return None

    def _file(self, attr) -> str | None:
        """The name of file number ``attr`` in the current CU's line program."""
        if attr is None or not isinstance(attr.value, int):
            return None
        from .lines import _file_name

        if self._files is None:
            self._prog = self._cu.dwarfinfo.line_program_for_CU(self._cu)
            self._files = {}
        if attr.value not in self._files:
            try:
                self._files[attr.value] = _file_name(self._prog, attr.value) if self._prog else None
            except (IndexError, KeyError, AttributeError):
                self._files[attr.value] = None
        return self._files[attr.value]

    @staticmethod
    def _member(attrs, base: int) -> RawMember:
        name, typ = attrs.get("DW_AT_name"), attrs.get("DW_AT_type")
        loc = attrs.get("DW_AT_data_member_location")
        offset = loc.value if loc is not None and isinstance(loc.value, int) else 0
        return RawMember(_text(name.value) if name else None, offset,
                         _ref(typ, base) if typ else None, bool(attrs.get("DW_AT_artificial")))

    def _type(self, die, base: int, parent) -> RawType:
        attrs = die.attributes
        name = attrs.get("DW_AT_name")
        name = _text(name.value) if name is not None else None
        path = parent[2] if parent else ""
        qname = (f"{path}::{name}" if path else name) if name is not None else None
        get = attrs.get
        size, align, typ = get("DW_AT_byte_size"), get("DW_AT_alignment"), get("DW_AT_type")
        enc, cont = get("DW_AT_encoding"), get("DW_AT_containing_type")
        raw = RawType(die.offset, die.tag, name, qname,
                      size.value if size is not None and isinstance(size.value, int) else None,
                      align.value if align is not None else None,
                      _ref(typ, base) if typ is not None else None,
                      bool(get("DW_AT_declaration")),
                      enc.value if enc is not None else None,
                      None,
                      _ref(cont, base) if cont is not None else None)
        self.index.types[die.offset] = raw
        return raw

    def _variable(self, attrs, base: int, parent) -> None:
        loc, name = attrs.get("DW_AT_location"), attrs.get("DW_AT_name")
        if loc is None or name is None:
            return
        address = _static_address(loc)
        if address is None:
            return
        path = parent[2] if parent else ""
        text = _text(name.value)
        typ, linkage = attrs.get("DW_AT_type"), attrs.get("DW_AT_linkage_name")
        self.index.variables.append(RawVariable(f"{path}::{text}" if path else text, address,
                                                _ref(typ, base) if typ is not None else None,
                                                _text(linkage.value) if linkage is not None else None))


def build_index(elf: ELFFile, symbols=None) -> Index:
    """Reads the DWARF of ``elf``; ``symbols`` is its symbol table (read from ``elf`` when None)."""
    from ..machine.symbols import SymbolTable

    index = Index()
    index.elf_symbols = symbols if symbols is not None else SymbolTable.from_elf(elf)
    if elf.has_dwarf_info():
        builder = _Builder(index)
        for cu in elf.get_dwarf_info().iter_CUs():
            builder.run_cu(cu)
    return index
