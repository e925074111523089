/**
 * More cloud and SaaS credentials (vendor-tokens.ts has the first set): Azure storage and
 * Service Bus keys, SendGrid, Twilio, HashiCorp Vault, Docker Hub, DigitalOcean, Hugging Face,
 * Shopify and Databricks. Each wants a fixed prefix or label (its trigger, in the scanner's
 * token-prefix precheck), then the vendor's body length and alphabet, and no letter or digit
 * glued to either end. Where a label or an identifier travels with the secret (`AccountKey=`,
 * a Twilio account SID before `:`), only the secret is replaced, so the reader still sees what
 * it was.
 */
import type { Detector } from './detectors.js';
import { END, START, prefixed } from './vendor-tokens.js';

/** A detector replacing every match of `source` with `[kind]`, after the first capture group that took part (the label or identifier kept). */
const labelled = (kind: string, trigger: string, source: string): Detector => prefixed(kind, trigger, source, true);

/**
 * Why: an Azure storage account key (`AccountKey=` + 88 base64 in a connection string) is full
 * access to the account; Service Bus and Event Hubs carry `SharedAccessKey=`; a SAS URL's `sig=`
 * (an HMAC, base64, often percent-encoded) is the bearer part of the URL. Labels stay readable;
 * a longer label ending so (`StorageAccountKey=`) counts too.
 */
export const azureStorageKey = labelled(
  'azure_storage_key',
  'AccountKey=|SharedAccessKey=|[?&]sig=',
  '((?:AccountKey|SharedAccessKey)=|[?&]sig=)([A-Za-z0-9+/%]{30,}={0,2})(?![A-Za-z0-9+/%=])',
);

/** Why: a SendGrid API key (`SG.` + 22 + `.` + 43 base64url) sends mail as the account. */
export const sendgridKey = prefixed(
  'sendgrid_key',
  'SG\\.',
  '(?<![A-Za-z0-9_-])SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])',
);

/**
 * Why: Twilio credentials. An API key SID (`SK` + 32 hex) is masked whole; an account or key SID
 * written with its secret (`AC...:token`, `SK...:secret`, as `curl -u` and basic-auth configs
 * carry them) keeps the SID and loses the secret. A bare account SID (`AC...`) is an identifier.
 */
export const twilioKey = labelled(
  'twilio_key',
  'AC[0-9a-f]{32}:|SK[0-9a-f]{32}',
  `${START}(?:(AC[0-9a-f]{32}:)[0-9a-f]{32}|(SK[0-9a-f]{32}:)[A-Za-z0-9]{32}|SK[0-9a-f]{32})${END}`,
);

/** Why: a HashiCorp Vault service, batch or recovery token (`hvs.`, `hvb.`, `hvr.`) acts as its holder. */
export const vaultToken = prefixed('vault_token', 'hv[sbr]\\.', `${START}hv[sbr]\\.[A-Za-z0-9_-]{24,}`);

/** Why: a Docker Hub personal access token (`dckr_pat_`) pushes images as its owner. */
export const dockerToken = prefixed('docker_token', 'dckr_pat_', `${START}dckr_pat_[A-Za-z0-9_-]{20,}`);

/** Why: DigitalOcean personal, OAuth and refresh tokens (`dop_v1_`, `doo_v1_`, `dor_v1_` + 64 hex). */
export const digitaloceanToken = prefixed('digitalocean_token', 'do[opr]_v1_', `${START}do[opr]_v1_[a-f0-9]{64}${END}`);

/** Why: a Hugging Face access token (`hf_` + 34 letters) reads and writes its owner's models. */
export const huggingfaceToken = prefixed('huggingface_token', 'hf_', `${START}hf_[A-Za-z]{34}${END}`);

/** Why: Shopify admin, app, custom-app and partner tokens (`shpat_`, `shpss_`, `shpca_`, `shppa_` + 32 hex). */
export const shopifyToken = prefixed('shopify_token', 'shp(?:at|ss|ca|pa)_', `${START}shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}${END}`);

/** Why: a Databricks personal access token (`dapi` + 32 hex, an optional `-N` suffix) runs jobs and reads data. */
export const databricksToken = prefixed('databricks_token', 'dapi[a-f0-9]{8}', `${START}dapi[a-f0-9]{32}(?:-\\d+)?${END}`);

/** Policy names of these detectors, in the order they run (after vendor-tokens.ts's). */
export const SERVICE_TOKEN_NAMES: readonly string[] = Object.freeze([
  'azure_storage_key',
  'sendgrid_key',
  'twilio_key',
  'vault_token',
  'docker_token',
  'digitalocean_token',
  'huggingface_token',
  'shopify_token',
  'databricks_token',
]);

/** Which detector each name switches on. */
export const SERVICE_TOKENS_BY_NAME: Readonly<Record<string, readonly Detector[]>> = Object.freeze({
  azure_storage_key: [azureStorageKey],
  sendgrid_key: [sendgridKey],
  twilio_key: [twilioKey],
  vault_token: [vaultToken],
  docker_token: [dockerToken],
  digitalocean_token: [digitaloceanToken],
  huggingface_token: [huggingfaceToken],
  shopify_token: [shopifyToken],
  databricks_token: [databricksToken],
});
