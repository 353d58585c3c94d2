"""kazoo over TLS against a zook server started with --tls-cert/--tls-key.

  tls.py HOSTS CA_FILE OTHER_CA_FILE PATH

Connects with use_ssl and the CA, creates PATH and reads it back; then tries once
more trusting only another CA (that connection must not come up). Prints one JSON object.
"""
import sys

from kazoo.client import KazooClient

from common import close, emit, error_name

hosts, ca_file, other_ca_file, path = sys.argv[1:5]

zk = KazooClient(hosts=hosts, timeout=10.0, use_ssl=True, verify_certs=True, ca=ca_file)
zk.start(timeout=20)
created = zk.create(path, b"over tls")
data, _stat = zk.get(path)
close(zk)

untrusted = KazooClient(hosts=hosts, timeout=10.0, use_ssl=True, verify_certs=True, ca=other_ca_file,
                        connection_retry=dict(max_tries=1, delay=0.05))
untrusted_start = error_name(lambda: untrusted.start(timeout=3))
close(untrusted)

emit({"created": created, "data": data.decode(), "untrusted_start": untrusted_start})
