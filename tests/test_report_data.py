"""The command line's report (`views.report_data`, built and written without pydantic) against
the report's pydantic models, which declare its format: the same data validates into them and
pydantic writes it back byte for byte as `dumps` does, for every network of the zoo."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic_core import to_json

from cnndsl.api import analyze
from cnndsl.views.report import Report
from cnndsl.views.report_data import dumps, format_table, json_float, report_data

ROOT = Path(__file__).resolve().parents[1]
ZOO = sorted((ROOT / "archs").glob("*.arch"))


@pytest.mark.parametrize("path", ZOO, ids=lambda p: p.stem)
def test_the_json_is_what_pydantic_writes_for_the_report_model(path: Path) -> None:
    data = report_data(analyze(path), batch=2, dtype="float16")
    model = Report.model_validate(data)
    assert dumps(data) == model.model_dump_json(indent=2)
    assert format_table(data) == format_table(model)  # the text views read either


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_float_is_written_as_pydantic_writes_it(value: float) -> None:
    expected = "null" if not math.isfinite(value) else to_json(value).decode()
    assert json_float(value) == expected


@pytest.mark.parametrize("value", [1e-5, 1e-6, 1.5e-5, 3.14e-5, 0.0001, 1e15, 1e16, 1.2345678901234568e16, -2.5e-7,
                                   -0.0, 5e-324, 1.7976931348623157e308, 0.1, 1.0])
def test_the_edges_of_positional_notation(value: float) -> None:
    assert json_float(value) == to_json(value).decode()


@given(st.recursive(st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats() | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
                    max_leaves=20))
def test_any_json_data_is_written_as_pydantic_writes_it(value: object) -> None:
    # a model writes an infinite or NaN float as null (`ser_json_inf_nan`'s default), bare to_json as Infinity
    assert dumps(value) == to_json(value, indent=2, inf_nan_mode="null").decode()


def test_json_written_to_a_stream_is_the_same_text_written_as_it_goes():
    """`dump` writes what `dumps` returns, but a long list goes out in parts, not joined at the end
    (a 120,000-layer report's pieces took a gigabyte)."""
    import io

    from cnndsl.views.report_data import dump, dumps
    value = {"network": "n", "layers": [{"id": f"layer{i}", "shape": [i, 7, 7], "x": i / 3} for i in range(5000)]}

    class Recorder(io.StringIO):
        writes = 0

        def write(self, text: str) -> int:
            self.writes += 1
            return super().write(text)
    stream = Recorder()
    dump(value, stream)
    assert stream.getvalue() == dumps(value)
    assert stream.writes > 5
