"""Index CSV safety: the stored (machine) format round-trips every value exactly; the export
for spreadsheets neutralises formulas in text cells and round-trips through its own reader."""
import csv
import io

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.index import (COLUMNS, INT_COLUMNS, from_csv_bytes, from_export_csv_bytes, normalise,
                         neutralise_formula, restore_formula, to_csv_bytes, to_export_csv_bytes)

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TEXT_COLUMNS = [c for c in COLUMNS if c not in INT_COLUMNS]
BOM = b"\xef\xbb\xbf"

# Any code point but surrogates, mixed with the characters CSV and spreadsheets care about.
PIECES = st.one_of(
    st.characters(exclude_categories=("Cs",)),
    st.sampled_from(["=", "+", "-", "@", "\t", "\r", "\n", "\r\n", ",", '"', "'", "\x00", " ",
                     "\ufeff", "\u202e", "\u0301", "\U0001f600"]),
)
PREFIXES = st.sampled_from(["", "", "=", "+", "-", "@", "\t", "\r", "\n", "\r\n", "'", "'=", "''-",
                            '"', ",", " =", "\x00", "\ufeff"])
TEXT = st.builds(lambda prefix, parts: prefix + "".join(parts), PREFIXES, st.lists(PIECES, max_size=8))
INTS = st.one_of(st.none(), st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1))


@st.composite
def index_frames(draw):
    rows = draw(st.integers(min_value=0, max_value=4))
    data = {}
    for column in COLUMNS:
        if column in INT_COLUMNS:
            data[column] = pd.array(draw(st.lists(INTS, min_size=rows, max_size=rows)), dtype="Int64")
        else:
            values = draw(st.lists(st.one_of(st.none(), TEXT), min_size=rows, max_size=rows))
            data[column] = pd.array(values, dtype="string")
    return pd.DataFrame(data)  # already the index columns, in order, with their types


def text_mapped(frame, change):
    """``frame`` with ``change`` applied to every string of its text columns."""
    frame = frame.copy()
    for column in TEXT_COLUMNS:
        values = frame[column].tolist()
        frame[column] = pd.array([change(v) if isinstance(v, str) else v for v in values], dtype="string")
    return frame


def empty_as_missing(frame):
    """CSV cannot tell an empty string from a missing value: both read back as <NA>."""
    return text_mapped(frame, lambda v: v or None)


def exported_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(BOM) and not data.startswith(BOM + BOM)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


PROPERTY = settings(deadline=None, max_examples=200, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


# One generated frame checks all three properties: building frames is most of the cost.
@PROPERTY
@given(index_frames())
def test_index_csv_round_trips_and_export_is_safe(frame):
    machine_format_round_trips_exactly(frame)
    export_round_trips_through_its_reader(frame)
    export_has_no_text_cell_a_spreadsheet_would_run(frame)


def machine_format_round_trips_exactly(frame):
    data = to_csv_bytes(frame)
    assert not data.startswith(BOM)
    pd.testing.assert_frame_equal(from_csv_bytes(data), empty_as_missing(frame))
    # Python's csv module (other readers of the stored index) sees the same values.
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows[0] == COLUMNS and len(rows) == len(frame) + 1
    columns = [["" if v is pd.NA else str(v) for v in frame[c].tolist()] for c in COLUMNS]
    assert rows[1:] == [list(row) for row in zip(*columns)]
    # The stored bytes are what pandas wrote before, except that a lone CR is now quoted.
    if not any("\r" in cell for column in columns for cell in column):
        assert data == frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def export_round_trips_through_its_reader(frame):
    # the export replaces NUL, which spreadsheets cannot hold, by U+FFFD
    expected = text_mapped(frame, lambda v: v.replace("\x00", "\ufffd") or None)
    pd.testing.assert_frame_equal(from_export_csv_bytes(to_export_csv_bytes(frame)), expected)


def export_has_no_text_cell_a_spreadsheet_would_run(frame):
    rows = exported_rows(to_export_csv_bytes(frame))
    assert rows[0] == COLUMNS and len(rows) == len(frame) + 1
    text_at = [i for i, c in enumerate(rows[0]) if c in TEXT_COLUMNS]
    for row in rows[1:]:
        assert len(row) == len(COLUMNS)
        for i in text_at:
            assert not row[i].startswith(TRIGGERS), row[i]
            assert "\x00" not in row[i]
        # numbers are left alone: a negative width is a number, not a formula
        for column in INT_COLUMNS:
            value = row[COLUMNS.index(column)]
            assert value == "" or int(value) == int(value.lstrip("'"))
            assert not value.startswith("'")


@PROPERTY
@given(TEXT)
def test_neutralise_and_restore_are_inverse(value):
    guarded = neutralise_formula(value)
    assert restore_formula(guarded) == value
    assert not guarded.startswith(TRIGGERS)
    assert guarded in (value, "'" + value)


def one_row(**values):
    row = {c: (250 if c in INT_COLUMNS else f"{c}-value") for c in COLUMNS}
    row["sha256"] = "ab" * 32
    row.update(values)
    return normalise(pd.DataFrame([row]))


EXAMPLES = [
    ('=HYPERLINK("http://x","y")', "'=HYPERLINK(\"http://x\",\"y\")"),
    ("+1+1", "'+1+1"),
    ("-2", "'-2"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tTab", "'\tTab"),
    ("\rCR", "'\rCR"),
    ("'=already quoted", "''=already quoted"),
    ("'plain apostrophe", "'plain apostrophe"),
    ("-Ana-", "'-Ana-"),
    ("Doe, Jane\nPhD", "Doe, Jane\nPhD"),
    ('Jane "JJ" Doe', 'Jane "JJ" Doe'),
    ("Ana 🙂👩🏽‍🔬", "Ana 🙂👩🏽‍🔬"),
    ("مريم العلي", "مريم العلي"),
    ("שרה כהן", "שרה כהן"),
    ("Zoe\u0308 Åsa\u030a", "Zoe\u0308 Åsa\u030a"),
    ("O'Brien", "O'Brien"),
]


def test_explicit_examples_are_neutralised_in_the_export_and_round_trip():
    for name, shown in EXAMPLES:
        frame = one_row(name=name, width=-2)
        data = to_export_csv_bytes(frame)
        header, row = exported_rows(data)
        assert row[header.index("name")] == shown, name
        assert row[header.index("width")] == "-2"  # numeric column untouched
        pd.testing.assert_frame_equal(from_export_csv_bytes(data), frame)
        # the stored format keeps the exact value, with no guard
        pd.testing.assert_frame_equal(from_csv_bytes(to_csv_bytes(frame)), frame)
        assert to_csv_bytes(frame).count(b"'=HYPERLINK") == 0


def test_export_quotes_fields_with_commas_quotes_and_newlines():
    data = to_export_csv_bytes(one_row(name='=HYPERLINK("http://x","y")', department="Maths,\r\nStats"))
    assert b'"\'=HYPERLINK(""http://x"",""y"")"' in data
    assert b'"Maths,\r\nStats"' in data


def test_export_is_utf8_with_bom_and_machine_format_is_not():
    frame = one_row(name="Zoë")
    assert to_export_csv_bytes(frame).startswith(BOM + b"id,category,image_url,name,")
    assert to_csv_bytes(frame).startswith(b"id,category,image_url,name,")
    assert "Zoë".encode("utf-8") in to_export_csv_bytes(frame)


def test_nul_is_kept_in_the_machine_format_and_replaced_in_the_export():
    frame = one_row(name="A\x00B", etag="\x00=1")
    pd.testing.assert_frame_equal(from_csv_bytes(to_csv_bytes(frame)), frame)
    header, row = exported_rows(to_export_csv_bytes(frame))
    assert row[header.index("name")] == "A\ufffdB"
    assert row[header.index("etag")] == "\ufffd=1"


def test_lone_carriage_return_stays_inside_its_field():
    frame = one_row(name="Ann\r", department="\rCS")
    assert b'"Ann\r"' in to_csv_bytes(frame)
    pd.testing.assert_frame_equal(from_csv_bytes(to_csv_bytes(frame)), frame)
    pd.testing.assert_frame_equal(from_export_csv_bytes(to_export_csv_bytes(frame)), frame)


def test_extra_columns_are_text_and_neutralised():
    frame = one_row().assign(note="=1+1")
    header, row = exported_rows(to_export_csv_bytes(frame))
    assert header[-1] == "note" and row[-1] == "'=1+1"
    assert from_export_csv_bytes(to_export_csv_bytes(frame))["note"].tolist() == ["=1+1"]
