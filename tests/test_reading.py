import os

import pandas as pd
import pytest

from rnnkit import DataError
from rnnkit.data.reading import check_csv_file, read_table


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_table(tmp_path / "nope.csv")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DataError, match="is empty"):
        read_table(path)


def test_header_only(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("created_at,amount\n")
    with pytest.raises(DataError, match="header but no data rows"):
        read_table(path, columns=["created_at", "amount"])


def test_misspelled_column_suggests_closest(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("created_at,amount\n2024-01-01,3\n")
    with pytest.raises(DataError, match="no column 'amonut'. Did you mean 'amount'"):
        read_table(path, columns=["created_at", "amonut"])


def test_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("a,b\n1,2\n3,caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match=r"not UTF-8 text \(line 3"):
        read_table(path)


def test_binary_file_is_refused(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(DataError, match="binary"):
        read_table(path)


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfcreated_at,amount\n2024-01-01,3\n")
    assert list(read_table(path).columns) == ["created_at", "amount"]


def test_parquet_is_read(tmp_path):
    path = tmp_path / "x.parquet"
    pd.DataFrame({"t": ["2024-01-01"], "v": [1.0]}).to_parquet(path)
    assert read_table(path, columns=["t", "v"]).shape == (1, 2)


def test_texts_like_na_are_kept(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("text,label\nNA,a\n,b\n")
    frame = read_table(path)
    assert frame["text"].iloc[0] == "NA"
    assert pd.isna(frame["text"].iloc[1])


def test_a_repeated_column_name_is_refused_before_pandas_renames_it(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("date,value,value\n2024-01-01,1,2\n2024-01-02,3,4\n")
    with pytest.raises(DataError, match="more than one column named 'value'"):
        read_table(path)


def test_a_repeated_column_name_is_refused_by_the_chunked_reader_too(tmp_path):
    from rnnkit.data.streaming import aggregate_file

    path = tmp_path / "dup.csv"
    path.write_text("date,value,value\n2024-01-01,1,2\n2024-01-02,3,4\n")
    with pytest.raises(DataError, match="more than one column named 'value'"):
        aggregate_file(path, "date", "value", "D", "sum", "zero")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("read", [read_table, check_csv_file])
def test_a_pipe_is_refused_saying_why_not_called_empty(tmp_path, read):
    pipe = tmp_path / "data.csv"
    os.mkfifo(pipe)  # what `rnnkit forecast train <(cat f.csv)` gives: /dev/fd/63
    with pytest.raises(DataError, match=r"is a pipe \(such as <\(\.\.\.\) makes\): rnnkit reads"):
        read(pipe)
