"""Reading what a statement PDF says and whether its signature holds."""

import io
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader


def pdf_text(data: bytes) -> str:
    """Return the PDF's text with whitespace collapsed, so sentences survive line breaks."""
    text = "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def signature_status(data: bytes, cert_path: Path):
    """Validate the one embedded signature against the given certificate as trust root."""
    from asn1crypto import pem, x509

    raw = Path(cert_path).read_bytes()
    _, _, der = pem.unarmor(raw)
    root = x509.Certificate.load(der)
    reader = PdfFileReader(io.BytesIO(data))
    (embedded,) = reader.embedded_signatures
    # pyhanko runs its own event loop, which cannot nest in Playwright's: use a thread.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(
            validate_pdf_signature, embedded, ValidationContext(trust_roots=[root])
        ).result()


def first_page_png(pdf_path: Path, png_stem: Path) -> Path:
    """Render the PDF's first page to PNG with pdftoppm; return the PNG's path."""
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            "/usr/bin/pdftoppm",
            "-png",
            "-r",
            "80",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(pdf_path),
            str(png_stem),
        ],
        check=True,
    )
    return png_stem.with_suffix(".png")
