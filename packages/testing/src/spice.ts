import crypto from 'node:crypto';
import net from 'node:net';

/** What a SPICE server said during the link handshake on its main channel. */
export interface SpiceHandshake {
  major: number;
  minor: number;
  /** Type of the first main-channel message after authentication; 103 is SPICE_MSG_MAIN_INIT. */
  firstMessageType: number;
}

const LINK_MAGIC = 'REDQ';
const MAIN_CHANNEL = 1;
const LINK_HEADER_SIZE = 16;
// SpiceLinkReply: error u32, pub_key[162] (1024-bit RSA, DER SubjectPublicKeyInfo), caps counts + offset.
const PUBKEY_OFFSET = 4;
const PUBKEY_SIZE = 162;
// Mini data header is off (we announce no capabilities): serial u64, type u16, size u32, sub_list u32.
const DATA_HEADER_SIZE = 18;

function linkMessage(): Buffer {
  // SpiceLinkMess: connection_id u32, channel_type u8, channel_id u8, num_common_caps u32, num_channel_caps u32,
  // caps_offset u32 (no capabilities follow).
  const mess = Buffer.alloc(18);
  mess.writeUInt32LE(0, 0);
  mess.writeUInt8(MAIN_CHANNEL, 4);
  mess.writeUInt8(0, 5);
  mess.writeUInt32LE(0, 6);
  mess.writeUInt32LE(0, 10);
  mess.writeUInt32LE(mess.length, 14);
  const header = Buffer.alloc(LINK_HEADER_SIZE);
  header.write(LINK_MAGIC, 0, 'latin1');
  header.writeUInt32LE(2, 4);
  header.writeUInt32LE(2, 8);
  header.writeUInt32LE(mess.length, 12);
  return Buffer.concat([header, mess]);
}

/**
 * Performs the SPICE link handshake on the main channel (protocol 2.2, no ticket or the given password) and waits
 * for the server's first message: proof that a real SPICE server, not just any listener, answers on host:port.
 */
export function spiceHandshake(
  host: string,
  port: number,
  opts: { password?: string; timeoutMs?: number } = {},
): Promise<SpiceHandshake> {
  return handshake((onConnect) => net.connect(port, host, onConnect), `${host}:${port}`, opts);
}

/** spiceHandshake with a SPICE server listening on a unix socket (`<listen type='socket'>`). */
export function spiceHandshakeUnix(
  path: string,
  opts: { password?: string; timeoutMs?: number } = {},
): Promise<SpiceHandshake> {
  return handshake((onConnect) => net.connect(path, onConnect), path, opts);
}

function handshake(
  connect: (onConnect: () => void) => net.Socket,
  where: string,
  opts: { password?: string; timeoutMs?: number },
): Promise<SpiceHandshake> {
  return new Promise((resolve, reject) => {
    const socket = connect(() => socket.write(linkMessage()));
    let buf = Buffer.alloc(0);
    let stage: 'reply' | 'auth' | 'message' = 'reply';
    let version = { major: 0, minor: 0 };
    const fail = (msg: string) => {
      socket.destroy();
      reject(new Error(`SPICE handshake with ${where} failed: ${msg}`));
    };
    socket.setTimeout(opts.timeoutMs ?? 10_000, () => fail(`no answer in stage '${stage}'`));
    socket.on('error', (err) => fail(err.message));
    socket.on('close', () => fail(`connection closed in stage '${stage}'`));
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (stage === 'reply') {
        if (buf.length < LINK_HEADER_SIZE) return;
        if (buf.toString('latin1', 0, 4) !== LINK_MAGIC) return fail('not a SPICE server (bad magic)');
        const size = buf.readUInt32LE(12);
        if (buf.length < LINK_HEADER_SIZE + size) return;
        version = { major: buf.readUInt32LE(4), minor: buf.readUInt32LE(8) };
        const body = buf.subarray(LINK_HEADER_SIZE, LINK_HEADER_SIZE + size);
        const error = body.readUInt32LE(0);
        if (error !== 0) return fail(`link error ${error}`);
        const pubKey = body.subarray(PUBKEY_OFFSET, PUBKEY_OFFSET + PUBKEY_SIZE);
        buf = buf.subarray(LINK_HEADER_SIZE + size);
        stage = 'auth';
        // The ticket is always sent RSA-OAEP(SHA-1) encrypted; an empty NUL-terminated one when no password is set.
        const ticket = Buffer.from(`${opts.password ?? ''}\0`);
        socket.write(
          crypto.publicEncrypt(
            {
              key: crypto.createPublicKey({ key: pubKey, format: 'der', type: 'spki' }),
              padding: crypto.constants.RSA_PKCS1_OAEP_PADDING,
            },
            ticket,
          ),
        );
      }
      if (stage === 'auth') {
        if (buf.length < 4) return;
        const result = buf.readUInt32LE(0);
        if (result !== 0) return fail(`authentication result ${result}`);
        buf = buf.subarray(4);
        stage = 'message';
      }
      if (stage === 'message' && buf.length >= DATA_HEADER_SIZE) {
        socket.removeAllListeners('close');
        socket.destroy();
        resolve({ ...version, firstMessageType: buf.readUInt16LE(8) });
      }
    });
  });
}
