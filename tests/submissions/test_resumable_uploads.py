"""Resumable weight uploads (the tus protocol) over real HTTP, with the client pipelines use.

The server is the test's live HTTP listener; the client is `tuspy`, as the
README shows, or http.client where a test must cut a connection off half-way.
"""

import base64
import datetime as dt
import hashlib
import http.client
import io
import os
import socket
import time
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone
from tusclient import client as tus
from tusclient.exceptions import TusCommunicationError

from accounts.services import create_api_token
from cases.models import CaseEvent
from submissions import resumable, services, tasks
from submissions.models import WeightsUpload
from tests.submissions.test_uploads import weights_grant

WEIGHTS = os.urandom(256 * 1024) + b"the end of the weights"
DIGEST = hashlib.sha256(WEIGHTS).hexdigest()


@pytest.fixture
def resumable_root(settings, tmp_path):
    settings.RESUMABLE_UPLOAD_ROOT = tmp_path / "resumable"
    return settings.RESUMABLE_UPLOAD_ROOT


def token_for(user) -> str:
    return create_api_token(user=user, name="pipeline", read_only=False)[1]


def uploads_url(server, case, grant) -> str:
    path = reverse("api:weights-uploads", kwargs={"number": case.number, "pk": grant.pk})
    return f"{server.url}{path}"


def tus_client(server, case, grant, token) -> tus.TusClient:
    return tus.TusClient(
        uploads_url(server, case, grant),
        headers={"Authorization": f"Bearer {token}", "X-Forwarded-Proto": "https"},
    )


def metadata_header(**values) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def raw(server, method: str, url: str, token: str, body: bytes = b"", **headers):
    """One request with http.client; return (status, headers, body)."""
    parts = urlsplit(url if url.startswith("http") else server.url + url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request(
        method,
        parts.path,
        body=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Tus-Resumable": "1.0.0",
            "X-Forwarded-Proto": "https",
            **headers,
        },
    )
    response = conn.getresponse()
    content = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, content


def create(server, case, grant, token, *, sha256=DIGEST) -> str:
    status, headers, body = raw(
        server,
        "POST",
        uploads_url(server, case, grant),
        token,
        **{
            "Upload-Length": str(len(WEIGHTS)),
            "Upload-Metadata": metadata_header(filename="model.safetensors", sha256=sha256),
        },
    )
    assert status == 201, body
    return headers["location"]


def send_cut_off(url: str, token: str, data: bytes, *, sent: int) -> None:
    """PATCH the whole of `data` as declared, but drop the connection after `sent` bytes."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.putrequest("PATCH", parts.path)
    for name, value in {
        "Authorization": f"Bearer {token}",
        "Tus-Resumable": "1.0.0",
        "X-Forwarded-Proto": "https",
        "Content-Type": "application/offset+octet-stream",
        "Upload-Offset": "0",
        "Content-Length": str(len(data)),
    }.items():
        conn.putheader(name, value)
    conn.endheaders()
    conn.send(data[:sent])
    conn.sock.shutdown(socket.SHUT_RDWR)
    conn.close()


def offset_once_settled(server, url: str, token: str) -> int:
    """HEAD until the server has finished with the cut-off request; return the offset."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status, headers, _ = raw(server, "HEAD", url, token)
        assert status == 200
        offset = int(headers["upload-offset"])
        time.sleep(0.3)
        if int(raw(server, "HEAD", url, token)[1]["upload-offset"]) == offset:
            try:  # the cut-off request holds the upload's lock until it is done
                with resumable.writing(urlsplit(url).path.rstrip("/").rsplit("/", 1)[1]):
                    return offset
            except resumable.Busy:
                continue
    raise AssertionError("the cut-off upload never settled")


def test_upload_cut_off_at_half_resumes_where_it_stopped_and_is_verified(
    live_server, liaison, case_at, resumable_root, media_root
):
    case = case_at("access")
    grant = weights_grant(case, liaison, declared=DIGEST)
    token = token_for(liaison)
    url = create(live_server, case, grant, token)

    half = len(WEIGHTS) // 2
    send_cut_off(url, token, WEIGHTS, sent=half)
    assert offset_once_settled(live_server, url, token) == half

    # The pipeline resumes with tuspy at the offset the server reports, sending only the rest.
    uploader = tus_client(live_server, case, grant, token).uploader(
        file_stream=io.BytesIO(WEIGHTS), url=url, chunk_size=64 * 1024
    )
    assert uploader.get_offset() == half
    uploader.upload()

    grant.refresh_from_db()
    assert grant.checksum_verified and grant.is_ready()
    assert grant.artifact_sha256 == DIGEST and grant.artifact_size == len(WEIGHTS)
    with grant.artifact.open("rb") as stored:
        assert stored.read() == WEIGHTS
    assert not WeightsUpload.objects.exists()
    assert list(resumable_root.iterdir()) == []  # the pieces became the artifact
    event = CaseEvent.objects.filter(case=case, verb="weights_uploaded").get()
    assert event.details["sha256"] == DIGEST
    # The finished upload is gone: another piece for it is a 404.
    assert raw(live_server, "HEAD", url, token)[0] == 404


def test_a_whole_upload_with_tuspy_as_the_readme_shows(live_server, liaison, case_at):
    case = case_at("access")
    grant = weights_grant(case, liaison, declared=DIGEST)
    client = tus_client(live_server, case, grant, token_for(liaison))
    uploader = client.uploader(
        file_stream=io.BytesIO(WEIGHTS),
        chunk_size=100 * 1024,
        metadata={"filename": "model.safetensors", "sha256": DIGEST},
        upload_checksum=True,  # each piece carries its SHA-1, checked before it is kept
    )
    uploader.upload()
    grant.refresh_from_db()
    assert grant.checksum_verified and grant.artifact_original_name == "model.safetensors"


def test_wrong_digest_of_the_whole_file_is_refused_and_the_grant_stays_unusable(
    live_server, liaison, case_at, resumable_root
):
    case = case_at("access")
    grant = weights_grant(case, liaison, declared=DIGEST)
    token = token_for(liaison)
    url = create(live_server, case, grant, token)
    other = bytes(len(WEIGHTS))  # as long, but other bytes
    status, _, body = raw(
        live_server,
        "PATCH",
        url,
        token,
        other,
        **{"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"},
    )
    assert status == 400
    assert f"not the expected {DIGEST}" in body.decode()
    grant.refresh_from_db()
    assert not grant.checksum_verified and not grant.artifact and not grant.is_ready()
    assert not WeightsUpload.objects.exists() and list(resumable_root.iterdir()) == []
    assert not CaseEvent.objects.filter(case=case, verb="weights_uploaded").exists()
    assert raw(live_server, "HEAD", url, token)[0] == 404


def test_a_digest_other_than_the_versions_is_refused_before_any_byte(live_server, liaison, case_at):
    case = case_at("access")
    grant = weights_grant(case, liaison, declared=DIGEST)
    status, _, body = raw(
        live_server,
        "POST",
        uploads_url(live_server, case, grant),
        token_for(liaison),
        **{
            "Upload-Length": str(len(WEIGHTS)),
            "Upload-Metadata": metadata_header(filename="model.safetensors", sha256="a" * 64),
        },
    )
    assert status == 400 and "is not the digest" in body.decode()
    assert not WeightsUpload.objects.exists()


def test_another_companys_upload_id_is_a_404(
    live_server, liaison, other_liaison, case_at, resumable_root
):
    case = case_at("access")
    grant = weights_grant(case, liaison, declared=DIGEST)
    url = create(live_server, case, grant, token_for(liaison))
    outsider = token_for(other_liaison)
    piece = {"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
    assert raw(live_server, "HEAD", url, outsider)[0] == 404
    assert raw(live_server, "PATCH", url, outsider, WEIGHTS[:1000], **piece)[0] == 404
    assert raw(live_server, "DELETE", url, outsider)[0] == 404
    # Nor may the outsider start an upload on the case.
    with pytest.raises(TusCommunicationError) as refused:
        tus_client(live_server, case, grant, outsider).uploader(
            file_stream=io.BytesIO(WEIGHTS), metadata={"filename": "w.bin", "sha256": DIGEST}
        ).upload()
    assert refused.value.status_code == 404
    # Nothing of the outsider's reached the upload.
    assert WeightsUpload.objects.get().received == 0
    assert os.path.getsize(next(resumable_root.iterdir())) == 0


def test_a_piece_from_the_wrong_offset_is_a_409_and_a_bad_piece_checksum_a_460(
    live_server, liaison, case_at
):
    case = case_at("access")
    grant = weights_grant(case, liaison, declared=DIGEST)
    token = token_for(liaison)
    url = create(live_server, case, grant, token)
    piece = {"Content-Type": "application/offset+octet-stream"}
    assert (
        raw(live_server, "PATCH", url, token, WEIGHTS[:10], **piece, **{"Upload-Offset": "5"})[0]
        == 409
    )
    wrong = base64.b64encode(hashlib.sha1(b"other", usedforsecurity=False).digest()).decode()
    status, _, body = raw(
        live_server,
        "PATCH",
        url,
        token,
        WEIGHTS[:1000],
        **piece,
        **{"Upload-Offset": "0", "Upload-Checksum": f"sha1 {wrong}"},
    )
    assert status == 460 and "none of it was kept" in body.decode()
    assert raw(live_server, "HEAD", url, token)[1]["upload-offset"] == "0"


def test_bad_protocol_input_gets_a_clear_4xx(live_server, liaison, case_at):
    case = case_at("access")
    grant = weights_grant(case, liaison, declared=DIGEST)
    token = token_for(liaison)
    create_url = uploads_url(live_server, case, grant)
    meta = metadata_header(filename="w.bin", sha256=DIGEST)
    assert raw(live_server, "POST", create_url, token, **{"Upload-Metadata": meta})[0] == 400
    assert (
        raw(
            live_server,
            "POST",
            create_url,
            token,
            **{"Upload-Length": "10", "Upload-Metadata": "x !"},
        )[0]
        == 400
    )
    status, headers, _ = raw(
        live_server, "POST", create_url, token, **{"Upload-Length": "10", "Tus-Resumable": "0.2"}
    )
    assert status == 412 and headers["tus-version"] == "1.0.0"
    url = create(live_server, case, grant, token)
    assert raw(live_server, "PATCH", url, token, b"xx", **{"Upload-Offset": "0"})[0] == 415
    too_long = {"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
    assert raw(live_server, "PATCH", url, token, WEIGHTS + b"!", **too_long)[0] == 400
    status, headers, _ = raw(live_server, "OPTIONS", create_url, token)
    assert status == 204 and "creation" in headers["tus-extension"]


def test_expired_uploads_and_their_pieces_are_removed(liaison, case_at, resumable_root):
    case = case_at("access")
    grant = weights_grant(case, liaison, declared=DIGEST)
    grant.case = case
    stale = services.start_weights_upload(
        grant=grant, actor=liaison, length=len(WEIGHTS), filename="w.bin", expected_sha256=DIGEST
    )
    services.receive_weights(
        upload=stale, actor=liaison, offset=0, stream=io.BytesIO(WEIGHTS[:1000]), length=1000
    )
    fresh = services.start_weights_upload(
        grant=grant, actor=liaison, length=len(WEIGHTS), filename="w.bin", expected_sha256=DIGEST
    )
    WeightsUpload.objects.filter(pk=stale.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    orphan = resumable_root / f"{'f' * 32}.part"  # pieces whose row never committed
    orphan.write_bytes(b"old")
    old = time.time() - 2 * 24 * 3600
    os.utime(orphan, (old, old))

    assert tasks.remove_expired_weights_uploads() == 2
    assert list(WeightsUpload.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert sorted(p.name for p in resumable_root.iterdir()) == [f"{fresh.pk.hex}.part"]


class CountingReads:
    """A partial file that counts the bytes read from it (the catch-up's reading)."""

    def __init__(self, file):
        self.file, self.read_bytes = file, 0

    def read(self, size=-1):
        data = self.file.read(size)
        self.read_bytes += len(data)
        return data

    def __getattr__(self, name):
        return getattr(self.file, name)


def test_pieces_another_worker_stored_are_read_from_where_this_one_stopped(resumable_root):
    import uuid

    upload = uuid.uuid4()
    resumable.create(upload)
    first, other, last = os.urandom(300_000), os.urandom(200_000), os.urandom(100_000)
    with resumable.writing(upload) as part:
        part.append(io.BytesIO(first), limit=len(first))
    # Another worker stores the next piece: its bytes reach the disk, not this process.
    with open(resumable.partial_path(upload), "ab") as file:
        file.write(other)

    with open(resumable.partial_path(upload), "r+b") as file:
        counted = CountingReads(file)
        appended = resumable.Writing(upload, counted).append(io.BytesIO(last), limit=len(last))

    assert appended.sha256 == hashlib.sha256(first + other + last).hexdigest()
    assert counted.read_bytes == len(other)  # not the whole file again
    resumable.remove(upload)
