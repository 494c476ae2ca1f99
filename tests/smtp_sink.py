"""A real SMTP server for the mail tests (aiosmtpd, installed by .ci/run into .ci/venv).

    python smtp_sink.py DIR [--refuse N] [--reject N]

Listens on 127.0.0.1 on a free port and prints `listening PORT` once it accepts connections.
Every message it takes is written whole to DIR/NNNN.eml, its decoded headers and parts to
DIR/NNNN.json (first to a temporary name, then
renamed), and `received NNNN` is printed. With --refuse N it answers the first N messages
`451 4.3.0 try again later` at the end of DATA, as a busy server would; with --reject N it
answers the first N `550 5.1.1 <recipient>: Recipient address rejected`, echoing the address
as many servers do.
"""

import argparse
import email
import email.policy
import json
import os
import socket
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory, refuse, reject):
        self.directory = directory
        self.refuse = refuse
        self.reject = reject
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse > 0:
            self.refuse -= 1
            print("refused", flush=True)
            return "451 4.3.0 try again later"
        if self.reject > 0:
            self.reject -= 1
            print("rejected", flush=True)
            return "550 5.1.1 <%s>: Recipient address rejected" % envelope.rcpt_tos[0]
        self.count += 1
        name = "%04d" % self.count
        tmp = os.path.join(self.directory, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(b"X-Envelope-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(self.directory, name + ".eml"))
        # The decoded parts, for tests that do not read MIME themselves.
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        summary = {
            "rcpt_to": envelope.rcpt_tos,
            "to": str(message["To"]),
            "from": str(message["From"]),
            "subject": str(message["Subject"]),
            "message_id": str(message["Message-ID"]),
            "text": text.get_content() if text else None,
            "html": html.get_content() if html else None,
        }
        tmp = os.path.join(self.directory, "." + name + ".json.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(summary, f, ensure_ascii=False)
        os.rename(tmp, os.path.join(self.directory, name + ".json"))
        print("received " + name, flush=True)
        return "250 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--refuse", type=int, default=0)
    parser.add_argument("--reject", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.directory, exist_ok=True)
    # aiosmtpd checks its server by connecting to the port it was given, so it needs a real one.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    controller = Controller(Sink(args.directory, args.refuse, args.reject), hostname="127.0.0.1", port=port)
    controller.start()
    print("listening %d" % port, flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
