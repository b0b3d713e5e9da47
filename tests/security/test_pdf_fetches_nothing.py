"""The PDF renderer fetches nothing but ``data:`` URLs: a card's HTML (a user's template can
write any) that links style sheets, imports, fonts, backgrounds, images, objects and frames
over HTTP, protocol-relative URLs and local files makes no request and reads no file, and a
``javascript:`` link does not reach the PDF."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import threading

import pytest

from faircard.render import render_pdf

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"),
                                reason="poppler-utils is not installed")


@pytest.fixture
def server():
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the standard library's name)
            asked.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"p::after { content: 'FETCHED' }")

        def log_message(self, *_args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{httpd.server_port}", asked
    httpd.shutdown()
    httpd.server_close()


def test_the_pdf_renderer_fetches_no_url_and_no_file(server, tmp_path):
    host, asked = server
    style = tmp_path / "s.css"
    style.write_text("p::after { content: 'LOCALFILE' }")
    image = tmp_path / "i.svg"
    image.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9">'
                     "<text y='8'>LOCALSVG</text></svg>")
    web = f"http://{host}"
    html = f"""<html><head>
<link rel="stylesheet" href="{web}/link.css"><link rel="stylesheet" href="file://{style}">
<style>@import url("{web}/import.css"); body {{ background: url("{web}/bg.png") }}
@font-face {{ font-family: x; src: url("{web}/font.woff") }} h1 {{ font-family: x }}</style>
</head><body><h1>Card</h1><p>text</p>
<img src="{web}/img.png"><img src="//{host}/relative.png"><img src="file://{image}">
<object data="{web}/object"></object><iframe src="{web}/frame"></iframe>
<svg><image href="{web}/svg.png"/></svg><a href="javascript:alert(1)">link</a>
<img src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='9' height='9'%3E%3Ctext y='8'%3EINLINE%3C/text%3E%3C/svg%3E">
</body></html>"""
    pdf = render_pdf(None, html=html)
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout
    assert asked == []
    assert "Card" in text and "text" in text
    assert not {"FETCHED", "LOCALFILE", "LOCALSVG"} & set(text.split())
    assert b"javascript" not in pdf and b"/URI" not in pdf
