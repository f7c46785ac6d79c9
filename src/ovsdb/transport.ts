// Opening the byte stream to ovsdb-server from an OVS-style target ("unix:/path",
// "tcp:host:port"), with errors that say what is probably wrong: the socket path, whether
// ovsdb-server runs, permissions.
import net from 'node:net';
import { ErrorCode, NetswitchError } from '../model/errors.ts';

/** Where ovsdb-server listens, written as OVS tools write it (ovs-vsctl --db=...). */
export type OvsdbTarget = `unix:${string}` | `tcp:${string}`;

/** The usual socket of the system's ovsdb-server (Debian/Ubuntu, Fedora). */
export const DEFAULT_OVSDB_TARGET: OvsdbTarget = 'unix:/run/openvswitch/db.sock';

/** Default port of OVSDB over TCP (IANA). */
const OVSDB_PORT = 6640;

export function parseTarget(target: string): net.NetConnectOpts {
  if (target.startsWith('unix:')) {
    const path = target.slice('unix:'.length);
    if (path !== '') return { path };
  } else if (target.startsWith('tcp:')) {
    // tcp:HOST:PORT, tcp:[IPv6]:PORT; the port defaults to 6640 as in OVS.
    const m = /^tcp:(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(target);
    if (m) return { host: m[1] ?? m[2], port: m[3] === undefined ? OVSDB_PORT : Number(m[3]) };
  }
  throw new NetswitchError(ErrorCode.Ovsdb, `'${target}' is not an OVSDB target`, {
    hint: "write 'unix:/run/openvswitch/db.sock' or 'tcp:HOST:PORT' (ssl: is not supported)",
    context: { target },
  });
}

/** Connects, failing after `timeoutMs` if the peer neither accepts nor refuses. */
export function openSocket(target: string, timeoutMs: number): Promise<net.Socket> {
  const options = parseTarget(target);
  return new Promise((resolve, reject) => {
    const socket = net.connect(options);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new NetswitchError(ErrorCode.Timeout, `connecting to OVSDB at ${target} timed out after ${timeoutMs} ms`, {
          hint: 'check that ovsdb-server is running and not overloaded, and that the address is right',
          context: { target },
        }),
      );
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(connectError(target, options, e));
    });
  });
}

function connectError(target: string, options: net.NetConnectOpts, e: NodeJS.ErrnoException): NetswitchError {
  const where = 'path' in options ? `socket ${options.path}` : `${target.slice('tcp:'.length)}`;
  const hints: Record<string, string> = {
    ENOENT: `there is no ${where}: is ovsdb-server running (systemctl status openvswitch-switch), and is this its --remote=punix: path?`,
    ECONNREFUSED: `nothing accepts connections on ${where}: ovsdb-server is not running or listens elsewhere (ovs-appctl -t ovsdb-server ovsdb-server/list-remotes)`,
    EACCES: `permission denied on ${where}: run as root or as the user owning the OVS database`,
    ENOTSOCK: `${where} is not a socket`,
    EHOSTUNREACH: `the host of ${where} cannot be reached`,
  };
  return new NetswitchError(ErrorCode.Ovsdb, `cannot connect to OVSDB at ${target}: ${e.message}`, {
    hint: hints[e.code ?? ''] ?? 'check that ovsdb-server is running and that the target is right',
    cause: e,
    context: { target, errno: e.code },
  });
}
