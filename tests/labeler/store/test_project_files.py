"""The owner of a project folder's paths: the layout, and a round folder's files read back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labeler.store import project_files
from labeler.store.project_files import RoundFolder, RoundPredictions


def make_predictions(n: int = 5) -> RoundPredictions:
    return RoundPredictions(
        scored_ids=np.arange(10, 10 + n, dtype=np.int64),
        scores=np.linspace(0.0, 1.0, n),
        guesses=np.arange(n, dtype=np.int64) % 2,
        confidences=np.linspace(0.5, 1.0, n),
    )


def test_round_folders_are_numbered_under_rounds(tmp_path: Path) -> None:
    assert project_files.get_round_folder(tmp_path, 7) == tmp_path / "rounds" / "round-0007"
    for bad in (0, -1, True, 1.0, "1"):
        with pytest.raises(ValueError, match="round id must be an integer >= 1"):
            project_files.get_round_folder(tmp_path, bad)  # type: ignore[arg-type]


def test_every_project_path_lies_inside_the_project(tmp_path: Path) -> None:
    paths = [
        project_files.get_project_file(tmp_path),
        project_files.get_database_file(tmp_path),
        project_files.get_images_file(tmp_path),
        project_files.get_features_folder(tmp_path),
        project_files.get_embeddings_folder(tmp_path),
        project_files.get_pruned_checkpoint(tmp_path),
        project_files.get_server_folder(tmp_path),
        project_files.get_label_studio_lock(tmp_path),
    ]
    assert len(set(paths)) == len(paths)
    assert all(path.is_relative_to(tmp_path) for path in paths)


def test_a_round_folder_reads_back_what_it_wrote(tmp_path: Path) -> None:
    folder = RoundFolder(tmp_path / "round-0001")
    folder.path.mkdir()
    written = make_predictions()
    folder.write_predictions(written)
    folder.write_report({"round_id": 1, "selected_ids": [14]})
    read = folder.read_predictions()
    assert read is not None
    for name in ("scored_ids", "scores", "guesses", "confidences"):
        np.testing.assert_array_equal(getattr(read, name), getattr(written, name))
    assert folder.read_report() == {"round_id": 1, "selected_ids": [14]}
    assert folder.read_guesses() == {10: (0, 0.5), 11: (1, 0.625), 12: (0, 0.75),
                                     13: (1, 0.875), 14: (0, 1.0)}  # fmt: skip


def test_the_audit_slice_is_kept_with_its_guesses_and_hidden_from_annotators(
    tmp_path: Path,
) -> None:
    folder = RoundFolder(tmp_path)
    folder.write_predictions(make_predictions())
    folder.write_audit(np.array([12, 14], np.int64), np.array([0, 0], np.int64))
    audit = folder.read_audit()
    assert audit is not None and audit[0].tolist() == [12, 14] and audit[1].tolist() == [0, 0]
    # The page, grids and Label Studio read guesses here: none for the audit images.
    assert folder.read_guesses() == {10: (0, 0.5), 11: (1, 0.625), 13: (1, 0.875)}


def test_a_round_folder_without_files_reads_as_empty(tmp_path: Path) -> None:
    folder = RoundFolder(tmp_path / "round-0002")
    folder.path.mkdir()
    assert folder.read_predictions() is None
    assert folder.read_guesses() == {}
    assert folder.read_report() is None
    (folder.path / project_files.REPORT_FILE).write_text("[1, 2]")  # not an object
    assert folder.read_report() is None
    assert RoundFolder.of(tmp_path, "") is None and RoundFolder.of(tmp_path, None) is None


def test_predictions_of_unequal_lengths_are_refused_on_reading(tmp_path: Path) -> None:
    folder = RoundFolder(tmp_path)
    folder.write_predictions(make_predictions())
    np.save(tmp_path / project_files.GUESSES_FILE, np.zeros(3, np.int64))
    assert folder.read_predictions() is None


def test_embedding_files_are_named_by_kind_and_key_and_listed(tmp_path: Path) -> None:
    file = project_files.get_embedding_file(tmp_path, "self-supervised", "0123456789abcdef")
    assert file.path == tmp_path / "embeddings" / "self-supervised-0123456789abcdef.npy"
    assert file.info_path == file.path.with_suffix(".json")
    assert project_files.list_embedding_files(tmp_path) == []
    vectors = np.arange(6, dtype=np.float32).reshape(3, 2)
    file.write(vectors, {"dim": 2})
    other = project_files.get_embedding_file(tmp_path, "pixels", "fedcba9876543210")
    other.write(vectors, {})
    (tmp_path / "embeddings" / ".pixels-0000000000000000.npy.tmp-1-ab").write_bytes(b"")
    (tmp_path / "embeddings" / "notes.npy").write_bytes(b"")
    assert project_files.list_embedding_files(tmp_path) == [other, file]
    read = file.read()
    assert read is not None
    np.testing.assert_array_equal(read, vectors)
    assert file.read_info() == {"dim": 2}
    file.remove()
    assert project_files.list_embedding_files(tmp_path) == [other]
    assert file.read() is None and file.read_info() is None
    for kind, key in (("Pixels", "0123456789abcdef"), ("a/b", "0123456789abcdef"),
                      ("pixels", "0123"), ("pixels", "0123456789ABCDEF")):  # fmt: skip
        with pytest.raises(ValueError, match="bad embedding"):
            project_files.get_embedding_file(tmp_path, kind, key)
