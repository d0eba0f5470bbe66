"""Bad input to the mirror and the loaders: missing files, corrupted copies, unknown names.

Each test builds a throw-away mirror in ``tmp_path`` (symbolic links to the real files, plus
the damaged copy under test) and points ``BRAINALIGN_DATA`` or ``root=`` at it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from brainalign.data import FileSpec, data_root, dataset_info, load_dataset, verify
from brainalign.errors import ChecksumError, DataMissingError, InvalidDataError, UnknownNameError

ALL = ("algonauts2019", "brennan2016", "cowley2023", "flavell2023", "kriegeskorte2008")
REAL = data_root()


def _mirror(tmp: Path, name: str, *, skip: str | None = None, corrupt: str | None = None) -> Path:
    """Link every file of dataset ``name`` into ``tmp``; leave out ``skip``; damage ``corrupt``."""
    for spec in dataset_info(name).files:
        dst = tmp / spec.path
        dst.parent.mkdir(parents=True, exist_ok=True)
        if spec.path == skip:
            continue
        if spec.path == corrupt:
            shutil.copyfile(REAL / spec.path, dst)
            data = bytearray(dst.read_bytes())
            data[len(data) // 2] ^= 0x01  # flip one bit in the middle
            dst.write_bytes(bytes(data))
        else:
            dst.symlink_to(REAL / spec.path)
    return tmp


@pytest.mark.parametrize("name", ALL)
def test_missing_mirror_names_file_and_source(name, tmp_path, monkeypatch):
    monkeypatch.setenv("BRAINALIGN_DATA", str(tmp_path))
    info = dataset_info(name)
    with pytest.raises(DataMissingError) as exc:
        load_dataset(name)
    msg = str(exc.value)
    assert any(repr(f.path) in msg for f in info.files), msg
    assert info.source in msg
    assert str(tmp_path) in msg and "BRAINALIGN_DATA" in msg


@pytest.mark.parametrize("name,rel", [
    ("brennan2016", "brennan2016_alice/alice_data_shared/s44-rate.txt"),
    ("algonauts2019", "algonauts2019_78/features_resnet18/ResNet18_image_42.npz"),
    ("flavell2023", "flavell2023_celegans/connectome/witvliet_2020_7.json"),
])
def test_one_missing_file_is_named(name, rel, tmp_path):
    root = _mirror(tmp_path, name, skip=rel)
    with pytest.raises(DataMissingError, match=rel.replace(".", r"\.")):
        load_dataset(name, root=root)


@pytest.mark.parametrize("name,rel", [
    ("algonauts2019", "algonauts2019_78/brain/fmri_IT_RDMs.npz"),
    ("brennan2016", "brennan2016_alice/alice_stim_shared/DownTheRabbitHoleFinal_exp120_pad_1.TextGrid"),
    ("brennan2016", "brennan2016_alice/alice_data_shared/6mm/s53-timecourses.txt"),
    ("flavell2023", "flavell2023_celegans/2022-07-26-31-data.h5"),
    ("cowley2023", "cowley2023_v4/responses_repeat_averaged/responses_201025.npy"),
    ("kriegeskorte2008", "kriegeskorte2008_92/92_behavRDMs.mat"),
])
def test_corrupted_copy_raises_checksum_error(name, rel, tmp_path, monkeypatch):
    root = _mirror(tmp_path, name, corrupt=rel)
    expected = next(f.sha256 for f in dataset_info(name).files if f.path == rel)
    monkeypatch.setenv("BRAINALIGN_DATA", str(root))
    with pytest.raises(ChecksumError) as exc:
        load_dataset(name)
    msg = str(exc.value)
    assert expected in msg and rel in msg and "Re-download" in msg


def test_intact_linked_mirror_loads_the_same(tmp_path):
    root = _mirror(tmp_path, "brennan2016")
    a = load_dataset("brennan2016", root=root, subjects=["s18"])
    b = load_dataset("brennan2016", subjects=["s18"])
    np.testing.assert_array_equal(a.responses["6mm"].values, b.responses["6mm"].values)


def test_change_after_verification_is_caught(tmp_path):
    """The checksum cache must not hide a file rewritten after a successful check."""
    rel = "algonauts2019_78/brain/fmri_EVC_RDMs.npz"
    spec = next(f for f in dataset_info("algonauts2019").files if f.path == rel)
    dst = tmp_path / rel
    dst.parent.mkdir(parents=True)
    shutil.copyfile(REAL / rel, dst)
    assert verify(spec, tmp_path) == dst
    data = bytearray(dst.read_bytes())
    data[1000] ^= 0xFF
    dst.write_bytes(bytes(data))
    st = dst.stat()
    os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    with pytest.raises(ChecksumError, match=spec.sha256):
        verify(spec, tmp_path)
    assert verify(spec, tmp_path, check=False) == dst  # the documented escape hatch


def test_verify_without_checksum_only_checks_presence(tmp_path):
    (tmp_path / "x.txt").write_text("anything")
    assert verify(FileSpec("x.txt", None), tmp_path) == tmp_path / "x.txt"
    with pytest.raises(DataMissingError, match="'y.txt'.*somewhere public"):
        verify(FileSpec("y.txt", None, "somewhere public"), tmp_path)


def test_root_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("BRAINALIGN_DATA", str(tmp_path / "env"))
    assert data_root() == tmp_path / "env"
    assert data_root(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("BRAINALIGN_DATA")
    default = data_root()  # ../shared/data next to the working directory or the checkout
    assert (default.parent.name, default.name) == ("shared", "data")


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(UnknownNameError) as exc:
        load_dataset("brennan2015")
    msg = str(exc.value)
    assert "Did you mean 'brennan2016'" in msg
    for name in ALL:
        assert name in msg


@pytest.mark.parametrize("name,option,valid", [
    ("brennan2016", {"radius": "6mm"}, ("subjects", "zscore")),
    ("flavell2023", {"session": "x"}, ("recording", "trace", "connectome")),
    ("algonauts2019", {"layers": ["x"]}, ("features",)),
])
def test_unknown_option_lists_valid_options(name, option, valid):
    with pytest.raises(UnknownNameError) as exc:
        load_dataset(name, **option)
    msg = str(exc.value)
    assert repr(next(iter(option))) in msg
    for v in valid:
        assert v in msg


def test_unknown_option_value_lists_valid_values():
    with pytest.raises(UnknownNameError, match="201025"):
        load_dataset("cowley2023", session="999999")


def test_wrong_file_content_is_named_when_checksums_are_off(tmp_path):
    """verify_checksums=False still gets clear errors from malformed content."""
    import h5py

    root = _mirror(tmp_path / "w", "flavell2023", skip="flavell2023_celegans/2022-07-26-31-data.h5")
    with h5py.File(root / "flavell2023_celegans/2022-07-26-31-data.h5", "w") as h5:
        h5["gcamp/other"] = np.zeros((3, 2))
    with pytest.raises(InvalidDataError, match="no dataset 'gcamp/trace_array'"):
        load_dataset("flavell2023", root=root, verify_checksums=False)

    rel = "brennan2016_alice/alice_data_shared/6mm/s18-timecourses.txt"
    root = _mirror(tmp_path / "b", "brennan2016", skip=rel)
    lines = (REAL / rel).read_text().splitlines()[:-1]
    (root / rel).write_text("\n".join(lines) + "\n")
    with pytest.raises(InvalidDataError, match=r"s18-timecourses.txt: shape \(361, 6\), expected \(362, 6\)"):
        load_dataset("brennan2016", root=root, subjects=["s18"], verify_checksums=False)
