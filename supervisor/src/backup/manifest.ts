/**
 * manifest.json, the first entry of every backup: what the backup holds and how to
 * check it. Every other entry is listed with its size and SHA-256; `restore` reads
 * nothing into place unless every file matches. The checksums find damage (a disk, a
 * copy, a flipped byte), not forgery: a backup is as trustworthy as where it was kept.
 *
 * Entry names: `data/<path>` below box.dataDir, `audio/<path>` below the audio archive,
 * `secrets/control.secret` for Kamailio's control secret when it lives outside the data dir,
 * `secrets/flows_cred.json` for Node-RED's node credentials.
 */
import { z } from 'zod';

export const MANIFEST_NAME = 'manifest.json';
export const BACKUP_FORMAT = 'vaktpost-backup';
/** Bumped when the layout changes in a way an older `restore` could not read. */
export const BACKUP_FORMAT_VERSION = 1;
/** The store's snapshot, always in a backup. */
export const STORE_ENTRY = 'data/vaktpost.db';
export const STORE_FILE = 'vaktpost.db';
export const CONTROL_SECRET_ENTRY = 'secrets/control.secret';
/**
 * Node-RED's node credentials (encrypted with the flows' credential secret, which is in the
 * data dir), from the flows user's home. Restored to `<dataDir>/flows/node-red/`, from
 * where the supervisor hands them to a home that has none at its next start.
 */
export const FLOWS_CREDENTIALS_ENTRY = 'secrets/flows_cred.json';
export const FLOWS_CREDENTIALS_RESTORED = 'flows/node-red/flows_cred.json';

/** A relative path that stays inside its root: no `..`, no absolute path, no empty segment. */
const entryName = z
  .string()
  .regex(/^(data|audio|secrets)\/[^\0]+$/, 'expected data/…, audio/… or secrets/…')
  .refine((p) => p.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..'), 'a path with an empty, . or .. segment');

export const manifestSchema = z.strictObject({
  format: z.literal(BACKUP_FORMAT),
  formatVersion: z.number().int().positive(),
  vaktpostVersion: z.string(),
  schemaVersion: z.number().int().nonnegative(),
  createdAt: z.string(),
  box: z.string(),
  withAudio: z.boolean(),
  files: z.array(z.strictObject({ path: entryName, size: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestFile = Manifest['files'][number];

/** The manifest in `text`, or an error saying what is wrong with it. */
export function parseManifest(text: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${MANIFEST_NAME} is not JSON: the backup is damaged`);
  }
  const format = (json as { format?: unknown; formatVersion?: unknown } | null)?.format;
  if (format !== BACKUP_FORMAT) throw new Error(`not a Vaktpost backup (${MANIFEST_NAME} has format ${JSON.stringify(format)})`);
  const fv = (json as { formatVersion?: unknown }).formatVersion;
  if (typeof fv === 'number' && fv > BACKUP_FORMAT_VERSION)
    throw new Error(
      `the backup has format version ${fv}, newer than this Vaktpost reads (${BACKUP_FORMAT_VERSION}) — restore it with the version that made it`,
    );
  const r = manifestSchema.safeParse(json);
  if (!r.success) throw new Error(`${MANIFEST_NAME} is not valid: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const seen = new Set<string>();
  for (const f of r.data.files) {
    if (seen.has(f.path)) throw new Error(`${MANIFEST_NAME} lists ${f.path} twice: the backup is damaged`);
    seen.add(f.path);
  }
  if (!seen.has(STORE_ENTRY)) throw new Error(`${MANIFEST_NAME} lists no ${STORE_ENTRY}: not a complete backup`);
  return r.data;
}
