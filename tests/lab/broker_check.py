#!/usr/bin/python3
"""The broker through the floating IP, as the manager's clients use it: a
publisher with confirms on a quorum queue and a consumer with acks
(Debian's python3-pika), reconnecting whenever the connection drops.

  broker_check.py publish HOST SECRETS QUEUE SECONDS LOG
      publishes numbered messages for SECONDS; each one the broker confirms
      is appended to LOG ("confirmed N"); a message whose connection dropped
      before its confirm is sent again on the next connection (at least once).
  broker_check.py declare HOST SECRETS QUEUE
      declares the quorum queue through HOST (a node's own address): its
      Raft leader is that node's broker (RabbitMQ's default leader locator,
      client-local).
  broker_check.py consume HOST SECRETS QUEUE LOG
      reads the queue to the end (acking each) and compares with LOG: prints
      confirmed, consumed, lost (confirmed, never consumed), duplicates;
      exits 1 when any confirmed message is lost.

SECRETS: the cluster's secrets file; the password (rabbitmq_manager) is read
from it, never given on a command line.
"""
import sys
import time

import pika


def credentials(secrets):
    with open(secrets) as f:
        for line in f:
            if line.startswith("rabbitmq_manager="):
                return pika.PlainCredentials("manager", line.split("=", 1)[1].strip())
    sys.exit(f"{secrets} has no rabbitmq_manager line")


def connect(host, secrets, queue):
    params = pika.ConnectionParameters(host=host, port=5672, credentials=credentials(secrets),
                                       connection_attempts=1, socket_timeout=2, blocked_connection_timeout=5,
                                       heartbeat=5)
    connection = pika.BlockingConnection(params)
    channel = connection.channel()
    channel.queue_declare(queue=queue, durable=True, arguments={"x-queue-type": "quorum"})
    return connection, channel


def publish(host, secrets, queue, seconds, log_path):
    """The publish outage is the longest gap between two confirms."""
    start = time.monotonic()
    deadline = start + float(seconds)
    number, confirmed, failures = 0, 0, []
    last_confirm, longest, longest_at = start, 0.0, 0.0
    pending = None  # sent, not confirmed: sent again
    with open(log_path, "a") as log:
        while time.monotonic() < deadline:
            try:
                connection, channel = connect(host, secrets, queue)
                channel.confirm_delivery()
                while time.monotonic() < deadline:
                    if pending is None:
                        number += 1
                        pending = number
                    # mandatory + confirm: returns once the quorum queue has it on a majority.
                    channel.basic_publish("", queue, str(pending).encode(),
                                          pika.BasicProperties(delivery_mode=2), mandatory=True)
                    log.write(f"confirmed {pending}\n")
                    log.flush()
                    confirmed += 1
                    pending = None
                    now = time.monotonic()
                    if now - last_confirm > longest:
                        longest, longest_at = now - last_confirm, last_confirm - start
                    last_confirm = now
                connection.close()
            except Exception as e:
                failures.append(f"{time.monotonic() - start:.1f} s: {type(e).__name__}")
                time.sleep(0.1)
    # A gap still open at the end counts too: publishing never came back.
    end = time.monotonic()
    if end - last_confirm > longest:
        longest, longest_at = end - last_confirm, last_confirm - start
    print(f"published: {confirmed} confirmed in {seconds} s, longest publish outage {longest:.2f} s "
          f"(from {longest_at:.1f} s); {len(failures)} connection failure(s)"
          + (f": {', '.join(failures[:8])}" if failures else ""))


def consume(host, secrets, queue, log_path):
    with open(log_path) as f:
        confirmed = {int(line.split()[1]) for line in f if line.startswith("confirmed ")}
    seen, duplicates = set(), 0
    # A queue without a leader (its Raft majority still catching up) refuses
    # reads for a while: that is unavailability, not loss. Up to 120 s.
    started, failures = time.monotonic(), 0
    for attempt in range(120):
        try:
            connection, channel = connect(host, secrets, queue)
            while True:
                method, _, body = channel.basic_get(queue)
                if method is None:
                    break
                n = int(body)
                duplicates += n in seen
                seen.add(n)
                channel.basic_ack(method.delivery_tag)
            connection.close()
            break
        except Exception as e:
            failures += 1
            if failures <= 3 or failures % 10 == 0:
                print(f"consume: {e!r}; trying again")
            time.sleep(1)
    lost = sorted(confirmed - seen)
    print(f"confirmed {len(confirmed)}, consumed {len(seen)} distinct, lost {len(lost)}, duplicates {duplicates}"
          + (f"; the queue refused reads {failures} time(s) over {time.monotonic() - started:.0f} s" if failures else "")
          + (f"; first lost: {lost[:10]}" if lost else ""))
    return 1 if lost or not confirmed else 0


def declare(host, secrets, queue):
    connection, _ = connect(host, secrets, queue)
    connection.close()
    print(f"declared {queue} through {host}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "declare":
        declare(*sys.argv[2:5])
    elif len(sys.argv) == 7 and sys.argv[1] == "publish":
        publish(*sys.argv[2:7])
    elif len(sys.argv) == 6 and sys.argv[1] == "consume":
        sys.exit(consume(*sys.argv[2:6]))
    else:
        sys.exit(__doc__)
