"""Algonauts 2019 (78 images): human fMRI RDMs of EVC and IT, and precomputed ResNet18 features.

The copy in the mirror is the one Net2Brain ships for its tests: 78 object photos, the
representational dissimilarity matrices of 15 subjects for early visual cortex (EVC) and
inferior temporal cortex (IT), and ResNet18 activations of two layers computed by Net2Brain.
"""

from __future__ import annotations

import os

import numpy as np
import xarray as xr

from ...errors import InvalidDataError
from ...provenance import make_provenance
from ...responses import make_rdms, make_responses
from .. import BrainData, DatasetInfo, FileSpec, StimulusSet, register_dataset, verify

_SRC = "GitHub cvai-roig-lab/Net2Brain @ b59ed47dc88e3c120e43f5726ede126e902843e8, net2brain/tests/"
_D = "algonauts2019_78/"
N_IMAGES = 78
N_SUBJECTS = 15
LAYERS = ("layer3.1.conv2", "layer4.1.bn2")
REGIONS = {"evc": "EVC", "it": "IT"}
# Measure of the RDMs. The files do not record it; the Algonauts 2019 challenge distributed
# correlation-distance RDMs (1 - Pearson r over voxels), and the values (0 to 0.99, zero
# diagonal) are consistent with that.
DISSIMILARITY = "1 - pearson r (Algonauts 2019 convention; not recorded in the files)"

_RDM_SHA = {
    "evc": "c927ba9793234c4bf4845320ac66fbfbe85ec9afc4df9b12ca2a006dae753672",
    "it": "b27cc1c7f87428516fabb4a67e0c1aafe3e6a7de4667e35b5b141e3582e53900",
}
# image_01 ... image_78, in order
_IMAGE_SHA = (
    "30d2e63e5d7a68dac3df99e0cbc4844df44ef4a7f6fe0e0d4ac5baa6d32ea019",
    "8bdd5e4b246ca79df9f692b4103daf29dcb707a1e0f029c47fdb7a9d1a334e74",
    "e21b0e582660eab7116d0629ace1bc1e9d01c20668f4b3ace99c4a6c5bcbbc0c",
    "8a0302a12f94551d341a01e76a30f614dccedb2a50b878444577958fd6ce87c7",
    "efe100e81b0bc2fe625aa3c56bc98ec6da838ff6f2d329a74ca215590c71f670",
    "e8f92df94aeb33b326b069b3ef1ffaed457f5b28357f3b3c3d35f7c6ff63b9b5",
    "2bc8aaca8c63312fd1d853d261a718f22411a2fe7c279544e13aa33a15edfccb",
    "d2acfc929c7f2a6c46f9e637ada958ea944b09a005e3455b6231237d1603ddae",
    "64c3f778e5e5258510a176d8be35d72e183dd1dbf7470f439d077c94a3baa978",
    "661755225248093c573ca60272f9f274edced7ad2cf5664e3f8166097600536e",
    "d1b91740632811e54a5e995ba90acb67e1db54f790ebe8fbd597aadfa208c2af",
    "ed021fdeddffb68708193902e31c85702a4147e381623d015b6ed63f734f7d62",
    "29e122b5979d45dde7e6a61df32d9d64aa3ff70c034bb38d048ee783df8d028e",
    "60a8cbb13997afa0b78df4fbcfd8f312197177dfe86c3f73d31dde54b08c4aae",
    "9e944f16cd4bdabd073012bc29c90558cfbc8fb6069336680fa96359e60497a7",
    "3c602eeab4e924216984f07620f233075a361428a1f78012c33ae789b8f3b9ba",
    "3a1b90ce18586be23759ebd312734efa2ce50675dc60e5af0bfd2f5b08b37783",
    "f7a936c4b96ee88eb5e155fe49385eea8afc303c18e07adce6824890e9b1415c",
    "c0bf5efb685e1cffce8d9befee11293fddb89b2899181589b73e96c76b26ac58",
    "098c7401b32026b9a0ac82e8e02071a825b5ed8ab12b22082be1d3be8291f5b1",
    "80cf9cf6c409195e5ca33eb297e64943c2d4f26baa1cdb0f0337d643ca5a7933",
    "c93b9ecd9a909a807be888e915370764925b5b2e5d23ef69e236051e8d413950",
    "66140db09d983f1e4a5b5f0d4fdad4d900b8a6715b185c0bee436593c73a6bb2",
    "1c623db6c45a955225f20c43e4cf0f39d4d39a272837458c17eca40bc902b8c5",
    "611586d40d970867060eddeefd3fe70177ba8d89f132514dde27ee48f6487436",
    "3e0ac4d060203e9d00a04162ccc6ba9b655893c414dcd4ac4ab42f091be80e02",
    "84899e20ce2363f9b2803054cf0684464f43dcae4bb1a238334b1e0eb8677cf8",
    "2d74dca48370a72f6b3f6fd5b6e82324f1d32bfb83c369ac23c10858b81d7e46",
    "231765321c8c8add4fc1b2c6c19dc8a6d49c1c518ccfaae15fc88a0845096162",
    "d348716e6ef1e80482118f956b1c1c70af19d4ffd21b4687b315d7144ba9ffbf",
    "a535df4798ca442c164cf89c15f1c0f4af99e488611a14ef93ad5133c346b712",
    "32c69937f56206e9575c16c8ccf9b82280772c6677bc3a9e177c7ed73baeab1a",
    "17e19ccc96daa3bd6bcb0853ffa38ecd3b21b3e7df00231e2bdb98fece3e3d88",
    "154687874955ab87b081641c217545414b63aa306996d5aa5654238a498fcd2b",
    "472dc5e216beced4f21100f2630c1c428c04c267c61ebd3c7260781debeedcea",
    "dbbc72aa836595c7be5f29e124b2cb5948b649702427a2d9141d1bdb54a3c8c0",
    "c4972b7c00b1cb1d5cd1c5a37a9404bffc8611f80f745f35c12a80c8a1b3d627",
    "9894cdc20966804c5ca41168b3e14343c349967b00ab9373e5e0aa0843445097",
    "63884bc6464ee6ca907e486a2a870507bdcb278ea1da770659395e3d15cc6e27",
    "e58175c1b5d244da0fc3c177e1bffe416667bf37fd78425de473f28320d3cddf",
    "8d5abb0537b689a4417cf8735c00eda0487c4fc199e68dff545ed8e7dd2ea4f8",
    "406dea4d8357fd5fa2ed5e6ccc4ce69aa787fa77a20f41a4c230bbfebad5b285",
    "fd804caecb0ee326be1d36ee914a725cb11622ce6adafb324bf3a7cfaf4298fd",
    "012ab3f8cb59de177b3e30563006559d8542ea8aa486477c9dba552cf910e70a",
    "74167b576ed5907a4f52d11535a6020982a1162245739564290d8fce44eab6ed",
    "c9c90a1540378d97a2229f1297c08ef22a2cca131f3df594ad1f9da4e48ebfae",
    "bcb75e20935ad5bb501714ba7e4248928e3ad1c0279cfb033ef4676dea260ce8",
    "f787e42ca5490392aaacf058f5ef10833b1aecee365e544bc24aa5766aebd90e",
    "1e0391f9c522dd1c1ac4e86a4fdaad943aa83427dc0c0ad45ba96f67f73d5458",
    "d41e40fe5d5e6a15ac117c24b85c33c3747cae610dc94c8925beb5804eebc585",
    "dadf1804b90ad9365ed3ee3f8f89c452dd45c82be857f41892e9d5e8a6821656",
    "f460f4cc520243643cdcce62382629a6697eeb6bb10105ad6337c522c66c64a2",
    "56ff677b9bec4ce199f39540e7efad4ddebf5fc1e8d7e679602afa961fd59ab3",
    "981d0d8348e31775070bddc86370567b2ef1184e030956ca380e5080942a7e7e",
    "90eceddef2987516b984ab28c1ceecbcf4b5e1b2313ab83217ab8f3c33c47ff7",
    "098d68d548eebf0a1b421d2a6e76f2f8d67856e34091c2290c89a95141ebea82",
    "861949cb3be70fd21f03989fbe647e6aeb43543bedf002e9acee63f2801624e9",
    "8a79a2d4c33f91085e066d6c27e8cd27d248c1d219fa9d9c8936d203cbc8edb9",
    "61be7db14c7c4e23547bbbbe535aaaa156ed0e65feb50feefff1476e22c352ac",
    "9ce1f6fa2b8f491eebb682d4eb77d3fbec52e8e6a59065362dc7e29a8208303f",
    "536ae8c253c88598c8d698e7a4460c9531ab288aa182bdcc97a4be3f5cbae2ab",
    "6ce5d46c5823f24f8d94ad0623e3f1b9869103c017e5caa878bfa8166c8082c2",
    "863014cc72df5501af25b21058e39e8a90413d55f35a2b7b9da8a5891d4e8dc3",
    "b8741d57815d71c14c32920e2dc133631e155d6f88d7350c4b51c5db6d00d082",
    "bfe4fd1fab9e49a9810865cc7d908a74720e8d04a43092782d98d077facc7074",
    "9f26ab2ebb9f8385b22450ceff22a8d0072c2d87a307e8aa94345c2af796d3c2",
    "b9678d61f18554bdfd040c43369247c12101a6f543cbd91ea5c8931525de9aa2",
    "060fbf6553dc36acc36a5c5e67c7f7bb571910022bb65fc6495a28d566d26adf",
    "0653eb4d3cb6e50cdb0b993e31a2824157ca3bf2f8cc93cde9fd85eff9fa7254",
    "a8aa6b7efbf8642045602571845ff19d1f01b85d017481d7b304e3e5ae63903c",
    "3320f26bc6419dd5418215fdb9595bb47e8ecbc8afcff11001c8ff595f270518",
    "e483a537c73d5f1e4011d945a4d2524d168317203a253983c5598f573cacaae7",
    "2225be5d234e9329c2c359f6360ea8d25f552032e5b463dffa94520869724e5f",
    "f25fe54e6f45ca150f40ab9fc7763c159d56597b7a4ce65d64dbe5c668c37173",
    "043dc44085d5d76f9180752c218ac69c20602771ceb65d3c4f0359ee65c4e585",
    "94ea5cd15126c4370b891e5e289067f2a85737f307dc63ec906775018f358cc7",
    "d9ce76da3c236653ea77378e7d7739ff594220323abe49c38e1100431aa7e2b8",
    "2d4ae82b61345cee476fe705c799d3379ad8d1ebc41ed40e0d9564ea99172ee5",
)
_FEATURE_SHA = (
    "b911d5db7177bcad5491fb4cf65fa0aa97977d7ad9f87a31547c12a4b5553ff4",
    "f0046a03a60a226ce93fae20639069d976b6c1b7953ebf2c506c7702ba53f54f",
    "eeb830b062fc9095d99e14e80b9081b07b696120259f5b15afd3b3199b72f60e",
    "7e8ee4871e6dfa551ecb6b890bb76a8ad56d9156a910ceb5a81a6f679297ef28",
    "967fddc574a75e0a0bad1f6492cc39028b9c8fb07f8aaa05db2aa88b4808203f",
    "8cb7c32bc7529b56209518366fc4c3467545b4006ccfcd3a221fdda8b7022261",
    "66665d3aee6e3d53133b3548c36a95603f52509e59965cb5148c42ddeb1a3984",
    "a7dc987a89e8b325be1ebbd709c4d37ce002d79cb1dfbd20183213622795c654",
    "d74fb6bca449653bccf5f4b7868661d809a1865f0ff092b9303d7fda35d4d2df",
    "c5fabd939e153283efcf3e58c79869beb951a8258c77bd436ac8fce81cd5552d",
    "dca6ffafb581ceec3da797894e5624e0b0f10cf2425ba7ce1640dfc1dd243768",
    "17eb27eb0e1edf9f7d25fb8a9034b0cd6ff9b00b5780cc6fa17b6369ae8c9577",
    "a250dfef9bf95a5bc63165b290b3cbdc9f483e413d79c9a624de5bc0891e71de",
    "9e1395b4e7891a75ab9ecf2c2897ca607a56045ac87915ff3f6c2ca6f9dcf8b9",
    "b4c66f2554489c77c666738f5f0454637a699e181b0cedbd43f5b20c3028b9b9",
    "c2f132b0a289da3273b8a07e7d3be64c0ec8feb8ed95b6c12212c02b95f47bb2",
    "e5cae154d521eba49dcc743fb67b55efb61ac628122a8e0fcea3abc5ed57c5b4",
    "61e3ca538aa6b3716c7e0b966232fcd0cf5c07f59d4e06e93fc4275af0f0f788",
    "8f4db2d98a6ba97a93ec48d145e996674df5cfbf76d880f8d6311327c5749a4e",
    "c403186c738c1233d0700450a58165b2bff9d614ce5729ebf09693e4a3e30ba3",
    "f0846ff476c47df0fdff768b0cac9c05fafd0488765f896f906fa8c295498029",
    "abacf53b3283c84202828397a6d25cfff7c28705d501d798e04f6119d5a54d1d",
    "8a721930b843d48ce0a8b950d8d71dadd4b26366cb081c5096762fd10c9f4bed",
    "ec7108e6e7e3b913c2bf377cc69b6e42324589d008433e0bbbaf104fadf938c5",
    "b48472e62ecc058b0e2a2a48cf3a3483b137e3e26e8f60973d93415f67ed075e",
    "219addd902ffbad9f1d7986c810df2cbbff6d79a73c624747949d1231a548e0f",
    "2e823b5646b552e8841e7ad97a7e7dac37b54f13713d66a45dc3b97c15969199",
    "168c6cb7e99a8c5a77647095320de1337656d7af47acc3805def7a575b49738a",
    "7682acef338ef49346150bb1eb40495d904fc62baeec32d217247bdbe489e8da",
    "1e20e5a0be446c702fb3d60e07d9e39c441ea22a021d6c770535232d1955623f",
    "57b0848290dc45f5c31ee24b55e2067a3ae7a9162d0dce5047ad1228202eb1b4",
    "54ebbcf6dfc1901ac9a5e2dbbab1ed860750065e2f9b9c398ab5c0437efdf469",
    "f15f2214733924702751feb679d1b75de4189af7f2d717431a5fc84ab2e33031",
    "c7d60fbe71f67d7b31d52b24fb8bfe66739107707a99a66914357c8a556a5b9c",
    "427f225c33dfb5ce4930a5e52a497b217477b052df5277129fd9a38d02c97bd9",
    "57da6d8a643355fd9eab38962571b8b272c473cf970f6ad887eb35232a351579",
    "0fe049d12021eb9dcfaf68280f459bbcfd911cf8077888e080b25f682bd9cdba",
    "a4a09d148a838bfaff5bfdfeda0bb475ae678c05304a449f50847c33daf31c11",
    "f8c2a92533c6c216e84d10cca20a48ecd98d7c9489f67287a6f73a8a8b4e6e95",
    "14c8f7b1f5c9ef7adfb07a19f619525e3d4fb90f22f2df735137f908ae5f9b03",
    "c3dbd6c230378c66b14dc4a3cba74c03218e5f2d1c898d288b12e5d5e41d3160",
    "60d375906ace4143ea6d38982ae790d69b7909b5a6237dccdce00bcbd709c9cc",
    "f14bc265014209140c3b464c384a2228d7fbbb41ffe105bc5281e7ffb1f9c042",
    "ab259a2add2ed15c46a6b3993b10626233cba8f93ad7619868a62fbcf470fc82",
    "c8951e7a85044d3e9d89bec40e4612720d04f67080071c0d3d2f4f2753365503",
    "1e25ccfdc861e161e3dce80051593a531de16b1733354166cf49f1ee2178e32c",
    "c4727423b5a7954871d7442b4babffb7d6ad574c4bd7d1d03e3f7fbf018c7ad1",
    "499c6eae693ef4d1ec3e50e1188bebb7eb4d205411de6a906bfd6ebb55477c4a",
    "1c45195c373a13a16d411947a09f1a9ead379c95ab54bb8c4ed0a7e5fc25ca67",
    "84e7a62008723afccdbf3a5713ab2559930a11ba2735528a29e3f469dc21537a",
    "992da508a5887434f079734a7d912dcfeb2dcf6c37519e67c306933c87152969",
    "915d450163c565990302a7b7238693531f8976db9c61db76de5e7c3c1229941a",
    "90c8f402111607505334dfea14e03be8e81ac68b03ff2b68cf6a4dad4adb65a1",
    "555eaab8d357ca46928716718d3e4a461d868e2f77f383c9e54145eab55ccc42",
    "3edbba8420e3253dbcb60b6c3374b0af9bfc9ca28040ade4179e3471ecdfd1f4",
    "2bef55832778ee38319efec9e91c7d8ddb178f91af660ec2f3370dfff29aeb72",
    "7320f5bd1ff7d9bfbbc70ac281035657c0ed1406eb4da4db6e2205451a4f45a3",
    "0ee240a1dffc68508063c86b8eddde82d53edfea17ca068662c6f6495b10e3dd",
    "d93649cc2f23d6b567d07031cec474d82c2a4d89b290a3cf512d938638507945",
    "048bda0df4c46e6a664f6550cfc8890914c66c2e5624992874f7341f2cc0e48f",
    "b27c9100e5204b0cbb3f779b4806be2ea2b32a787e5c0d4e8b6d18957023362b",
    "cc4d7bccc323b6b2f09fdf2933d89c47334077ef46969f9a68f83d7f6449d48f",
    "2aea768bda59405e77d270879c7b3ad3e8b123342fa2bb56dcb685f2528578f2",
    "16924cf6b7eb8e01e14b629692567c686d7bd6c25ef0b23d1c60637455a0e75f",
    "a8e37b86591b427c666328e78779c561b91fe2f16b947fa1eef5ea147e063ad4",
    "88319d0c9301b20307aee74ce9da85e12d6c96176d5047577432394f78652059",
    "c25c713cf8a5e19bdb4462477df51969353169b6b63cff0971c334badecf7a83",
    "6890f2dd397cc798fbb74e6be2d9d5f3d622953712b9f136fd8d2b6b12c7acda",
    "cf4e452ff624acd546ba42dc3392cca35eebad47750fe580ccc2ffc44c003c41",
    "446e1123e85fa267f2be36166fbfe45d048d56ba31e82aec87dd92a976f2881d",
    "986660209bbaddb858b29418ca34b59b0c26bdc7d6c0ba25e20acfaa9c1297b4",
    "c18aed38b53eadcf6ac680c81a81710b2bb095f688e7ff6c7548215268ad291a",
    "b3a7643291c8ccaac7dc0054ad9623392003f24c9143062cc5bf5aa4c710a7fb",
    "ca91c6f4322647e6acb657928b89e29788b733fff571621f63a98144a6d04346",
    "f537555ec8014483070f297c95a17ab8bfc82cf4300d904a0a8c672a9deaea32",
    "292dba0d3555af4b3029bff5f01245ae93eaee2cd31215e791033318014c9090",
    "f10ffc0dbb4c2b6d7fc67a59f6e32d11a1391cfe1d2fffa085164ac9b747d817",
    "0d056099fff2b104cc55716cd01ce81d8bcf9e7a9c39c2068c4d0d902a1962f7",
)

IDS = tuple(f"image_{i:02d}" for i in range(1, N_IMAGES + 1))


def _files() -> dict[str, FileSpec]:
    out = {f"rdm_{k}": FileSpec(f"{_D}brain/fmri_{v}_RDMs.npz", _RDM_SHA[k], _SRC)
           for k, v in REGIONS.items()}
    for sid, isum, fsum in zip(IDS, _IMAGE_SHA, _FEATURE_SHA, strict=True):
        out[f"image/{sid}"] = FileSpec(f"{_D}stimuli/{sid}.jpg", isum, _SRC)
        out[f"features/{sid}"] = FileSpec(f"{_D}features_resnet18/ResNet18_{sid}.npz", fsum, _SRC)
    return out


FILES = _files()

INFO = DatasetInfo(
    name="algonauts2019",
    title="78 object images: human fMRI RDMs of EVC and IT, 15 subjects (Algonauts 2019)",
    modality="human fMRI (RDMs only: early visual cortex and inferior temporal cortex)",
    citation="Cichy RM, Roig G, Andonian A, Dwivedi K, Lahner B, Lascelles A, Mohsenzadeh Y, "
             "Ramakrishnan K, Oliva A (2019). The Algonauts Project: A Platform for Communication "
             "between the Sciences of Biological and Artificial Intelligence. arXiv:1905.05675. "
             "Features: Bersch D, Dwivedi K, Vilas M, Cichy RM, Roig G (2022). Net2Brain. "
             "arXiv:2208.09677.",
    licence="MIT (Net2Brain repository); data from the Algonauts 2019 challenge",
    source=_SRC,
    description=(
        "78 object photos (stimulus ids 'image_01'...'image_78'). rdms['evc'] and rdms['it']: "
        "one 78x78 RDM per subject (15 subjects, coord 'subject' = 'sub01'...), "
        + DISSIMILARITY + "; symmetric to 2.3e-16 (not bit-identical), zero diagonal, no NaN. "
        "responses['resnet18']: ResNet18 activations precomputed by Net2Brain for the same "
        "images, stimulus x unit, both layers concatenated (layer3.1.conv2: 256x14x14 = 50176 "
        "units, then layer4.1.bn2: 512x7x7 = 25088 units) with unit coords 'layer', 'channel', "
        "'y', 'x', 'position'; select one layer with da.sel(unit=da.layer == name). "
        "Note: 'layer4.1.bn2' holds no negative values (46% exact zeros): torchvision's "
        "BasicBlock adds the shortcut and applies ReLU in place on the bn2 output, so the hooked "
        "tensor is relu(bn2 + shortcut), i.e. the output of block layer4.1, not the BatchNorm "
        "output. features=False skips them."),
    files=tuple(FILES.values()),
    options={"features": "load the precomputed ResNet18 features (default True)"},
)


def _unit_coords(layer: str, shape: tuple[int, int, int]) -> tuple[list[str], dict[str, np.ndarray]]:
    """Unit ids and coords of one conv layer flattened in C order (channel, y, x)."""
    c, h, w = shape
    ch, yy, xx = (a.ravel() for a in np.meshgrid(np.arange(c), np.arange(h), np.arange(w), indexing="ij"))
    ids = [f"{layer}/c{a}/y{b}x{d}" for a, b, d in zip(ch.tolist(), yy.tolist(), xx.tolist(), strict=True)]
    coords = {"layer": np.full(len(ids), layer, dtype=object), "channel": ch, "y": yy, "x": xx,
              "position": yy * w + xx}
    return ids, coords


def _load_features(paths: dict[str, os.PathLike]) -> xr.DataArray:
    per_layer: dict[str, list[np.ndarray]] = {name: [] for name in LAYERS}
    shapes: dict[str, tuple[int, ...]] = {}
    for sid in IDS:
        path = paths[f"features/{sid}"]
        with np.load(path, allow_pickle=False) as z:
            missing = [name for name in LAYERS if name not in z.files]
            if missing:
                raise InvalidDataError(f"{path} lacks layers {missing}; it has {z.files}")
            for name in LAYERS:
                a = z[name]
                if a.ndim != 4 or a.shape[0] != 1:
                    raise InvalidDataError(f"{path}[{name!r}] has shape {a.shape}; expected (1, C, H, W)")
                if shapes.setdefault(name, a.shape[1:]) != a.shape[1:]:
                    raise InvalidDataError(f"{path}[{name!r}] has shape {a.shape[1:]}, other images "
                                           f"{shapes[name]}")
                per_layer[name].append(a.reshape(-1))
    data = np.concatenate([np.stack(per_layer[name]) for name in LAYERS], axis=1)
    unit_ids: list[str] = []
    coords: dict[str, list[np.ndarray]] = {}
    for name in LAYERS:
        ids, c = _unit_coords(name, shapes[name])  # type: ignore[arg-type]
        unit_ids += ids
        for k, v in c.items():
            coords.setdefault(k, []).append(v)
    prov = make_provenance(
        "data.algonauts2019.features",
        {"model": "ResNet18", "layers": list(LAYERS), "computed_by": "Net2Brain",
         "note": "precomputed by Net2Brain's feature extractor (torchvision ImageNet ResNet18) and "
                 "shipped in its tests; brainalign only reads them",
         "caveat": "layer4.1.bn2 is relu(bn2 + shortcut) (in-place ops after the hook), i.e. the "
                   "output of block layer4.1", "source": _SRC},
        inputs={"features": _hash_list(_FEATURE_SHA)})
    return make_responses(data, list(IDS), unit_ids,
                          unit_coords={k: np.concatenate(v) for k, v in coords.items()},
                          provenance=prov, source="algonauts2019", name="activation")


def _hash_list(digests: tuple[str, ...]) -> str:
    from ...provenance import hash_strings

    return hash_strings(digests)


@register_dataset(INFO)
def load(root: str | os.PathLike | None = None, features: bool = True,
         verify_checksums: bool = True) -> BrainData:
    """Load the 78 images, the EVC and IT RDMs of 15 subjects and (optionally) ResNet18 features.

    Parameters
    ----------
    root : mirror root (default: ``$BRAINALIGN_DATA`` or ``../shared/data``).
    features : also read the 78 feature files (``responses["resnet18"]``, shape (78, 75264)).
    verify_checksums : check the SHA-256 of every file read.

    Returns
    -------
    BrainData with ``stimuli`` (78 images), ``rdms["evc"]``, ``rdms["it"]`` (dims
    ``("rdm", "stimulus", "stimulus2")``, shape (15, 78, 78)) and ``responses["resnet18"]``.
    """
    wanted = {k: f for k, f in FILES.items() if features or not k.startswith("features/")}
    paths = {k: verify(f, root, check=verify_checksums) for k, f in wanted.items()}
    stimuli = StimulusSet.from_files([paths[f"image/{s}"] for s in IDS], list(IDS),
                                     name="algonauts2019_78", content_key=_hash_list(_IMAGE_SHA))
    subjects = [f"sub{i + 1:02d}" for i in range(N_SUBJECTS)]
    rdms = {}
    for key, region in REGIONS.items():
        with np.load(paths[f"rdm_{key}"], allow_pickle=False) as z:
            m = np.asarray(z["arr_0"], dtype=float)
        if m.shape != (N_SUBJECTS, N_IMAGES, N_IMAGES):
            raise InvalidDataError(f"{paths[f'rdm_{key}']}: RDMs of shape {m.shape}, expected "
                                   f"({N_SUBJECTS}, {N_IMAGES}, {N_IMAGES})")
        prov = make_provenance("data.algonauts2019.rdms", {"region": region, "source": _SRC},
                               inputs={"rdms": _RDM_SHA[key][:16]})
        rdms[key] = make_rdms(m, list(IDS), [f"{s}/{region}" for s in subjects],
                              rdm_coords={"subject": subjects, "region": [region] * N_SUBJECTS},
                              dissimilarity=DISSIMILARITY, provenance=prov, check=True)
    responses = {"resnet18": _load_features(paths)} if features else {}
    return BrainData("algonauts2019", INFO, stimuli=stimuli, responses=responses, rdms=rdms,
                     extra={"layers": LAYERS, "subjects": subjects})
