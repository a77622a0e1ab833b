// The platform's own authority for `.dream` names, used when no .dream ACME directory is set.
// The root (ECDSA P-256, 10 years) is generated on first start; its key is mode 0600. The root is
// name-constrained to `dream`, so importing it (`dream trust`) cannot make any other name trusted.
// Leaf certificates are issued directly, no ACME round trip.
import crypto, { webcrypto } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { GeneralName, GeneralSubtree, GeneralSubtrees, NameConstraints, id_ce_nameConstraints } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import { ProxyStartupError } from '../startup-errors.js';
import type { TlsStorage } from './storage.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;
export const BUILTIN = 'builtin';

export interface IssuedPair { certPem: string; keyPem: string; notBefore: Date; notAfter: Date }

async function keyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
}

async function importKey(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, ALG, true, ['sign']) as unknown as Promise<CryptoKey>;
}

function unusableRoot(storage: TlsStorage, why: string): ProxyStartupError {
  const dir = storage.file('ca');
  return new ProxyStartupError('ROOT_CA_UNUSABLE', `The built-in .dream root CA cannot be used: ${why}. The proxy does not make a new root by itself, `
    + `because every client that imported this one with \`dream trust\` would stop trusting .dream names. Restore root.pem and root.key from a backup, `
    + `or move both out of ${dir} to have a new root made at the next start, then run \`dream trust\` again on every client.`);
}

const serial = () => Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1');

export class BuiltinCa {
  private constructor(readonly rootPem: string, private readonly root: x509.X509Certificate, private readonly key: CryptoKey) {}

  /** Loads the root from storage, or generates and stores it (first start). */
  static async open(storage: TlsStorage, now = new Date()): Promise<BuiltinCa> {
    const existing = await BuiltinCa.load(storage);
    if (existing) return existing;
    // Several proxy workers start at once: one generates, the others wait and load its root.
    for (let i = 0; ; i++) {
      const release = storage.tryLock('builtin-ca-root', 30_000);
      if (release) {
        try { return (await BuiltinCa.load(storage)) ?? (await BuiltinCa.create(storage, now)); } finally { release(); }
      }
      if (i > 600) throw new Error('timed out waiting for another process to create the .dream root CA');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * The stored root, or undefined when there is none (a key alone is a first start that crashed
   * before writing the certificate: nobody can trust a root that was never written). A root that
   * is there but unusable stops start-up: making a new one silently would break every client that
   * imported this one with `dream trust`, and replacing it is the operator's call.
   */
  private static async load(storage: TlsStorage): Promise<BuiltinCa | undefined> {
    const certPem = storage.read('ca/root.pem');
    if (!certPem) return undefined;
    const kp = storage.read('ca/root.key');
    const cert = storage.file('ca/root.pem');
    const key = storage.file('ca/root.key');
    if (!kp) throw unusableRoot(storage, `its private key ${key} is missing`);
    let root: x509.X509Certificate;
    try { root = new x509.X509Certificate(certPem); } catch (e) { throw unusableRoot(storage, `${cert} is not a readable certificate (${(e as Error).message})`); }
    try {
      const spki = crypto.createPublicKey(crypto.createPrivateKey(kp)).export({ type: 'spki', format: 'der' });
      if (!spki.equals(Buffer.from(root.publicKey.rawData))) throw new Error('it is the key of another certificate');
      return new BuiltinCa(certPem, root, await importKey(kp));
    } catch (e) {
      throw unusableRoot(storage, `its private key ${key} cannot be used (${(e as Error).message})`);
    }
  }

  private static async create(storage: TlsStorage, now: Date): Promise<BuiltinCa> {
    const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as unknown as CryptoKeyPair;
    const constraints = new NameConstraints({ permittedSubtrees: new GeneralSubtrees([new GeneralSubtree({ base: new GeneralName({ dNSName: 'dream' }) })]) });
    const root = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: 'CN=DreamNet Local Root (.dream), O=DreamNet Platform',
      notBefore: new Date(now.getTime() - DAY),
      notAfter: new Date(now.getTime() + 3650 * DAY),
      signingAlgorithm: ALG,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        new x509.Extension(id_ce_nameConstraints, true, AsnConvert.serialize(constraints)),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    // Key before certificate: a crash between the two leaves no root without its key.
    storage.write('ca/root.key', await keyPem(keys.privateKey), true);
    storage.write('ca/root.pem', root.toString('pem') + '\n');
    return new BuiltinCa(root.toString('pem') + '\n', root, keys.privateKey);
  }

  /** A leaf for `hosts` (first is the subject), valid `days`; chain = leaf + root. */
  async issue(hosts: string[], now = new Date(), days = 30): Promise<IssuedPair> {
    for (const h of hosts) if (h !== 'dream' && !h.endsWith('.dream')) throw new Error(`the built-in CA only issues .dream names, not ${h}`);
    const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as unknown as CryptoKeyPair;
    const notBefore = new Date(now.getTime() - 3600_000);
    const notAfter = new Date(now.getTime() + days * DAY);
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${hosts[0]}`,
      issuer: this.root.subject,
      notBefore, notAfter,
      signingAlgorithm: ALG,
      publicKey: keys.publicKey,
      signingKey: this.key,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(hosts.map((value) => ({ type: 'dns' as const, value }))),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(this.root),
      ],
    });
    return { certPem: leaf.toString('pem') + '\n' + this.rootPem, keyPem: await keyPem(keys.privateKey), notBefore, notAfter };
  }
}
