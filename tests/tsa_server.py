"""A local RFC 3161 timestamp authority for the tests, run as its own process.

    python tsa_server.py CERT.pem KEY.pem LOG

It answers POSTed timestamp queries on 127.0.0.1 with tokens signed by pyHanko's
DummyTimeStamper, prints the port it listens on, and appends one line to LOG for
each timestamp it issues.
"""

from __future__ import annotations

import http.server
import sys
from pathlib import Path

from asn1crypto import keys, pem, tsp, x509
from pyhanko.sign.timestamps import DummyTimeStamper


def _der(path: str) -> bytes:
    data = Path(path).read_bytes()
    return pem.unarmor(data)[2] if pem.detect(data) else data


def main() -> None:
    cert_path, key_path, log_path = sys.argv[1:4]
    stamper = DummyTimeStamper(
        tsa_cert=x509.Certificate.load(_der(cert_path)),
        tsa_key=keys.PrivateKeyInfo.load(_der(key_path)),
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Type") != "application/timestamp-query":
                self.send_error(415)
                return
            reply = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
            with Path(log_path).open("a") as log:
                log.write("timestamp issued\n")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
