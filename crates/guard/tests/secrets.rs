//! Credential rules: every type id has a positive sample, built here from a
//! deterministic generator (no real credential appears in this file), embedded in
//! the text a tool would return (logs, JSON, .env files, code) and found with its
//! exact byte span; and a set of look-alikes (hashes, ids, public keys,
//! placeholders, code that reads secrets from the environment, tokens whose
//! checksum is wrong) produce no finding.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use agentbox_guard::Finding;
use agentbox_guard::secrets::{Secrets, type_ids};

fn secrets() -> &'static Secrets {
    static S: OnceLock<Secrets> = OnceLock::new();
    S.get_or_init(Secrets::new)
}

fn scan(text: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    secrets().scan(text, &mut out);
    out
}

// ------------------------------------------------------------------ generators

const B62: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const HEX: &str = "0123456789abcdef";
const HEX_UPPER: &str = "0123456789ABCDEF";
const UPPER_ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const LOWER_ALNUM: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
const LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const DIGITS: &str = "0123456789";
const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const BASE32: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BECH32_UPPER: &str = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";

/// A 64-bit LCG (Knuth's MMIX constants); the high bits are used.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn string(&mut self, alphabet: &str, n: usize) -> String {
        let a = alphabet.as_bytes();
        (0..n)
            .map(|_| char::from(a[(self.next() % a.len() as u64) as usize]))
            .collect()
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() & 0xff) as u8).collect()
    }

    fn uuid(&mut self) -> String {
        format!(
            "{}-{}-4{}-a{}-{}",
            self.string(HEX, 8),
            self.string(HEX, 4),
            self.string(HEX, 3),
            self.string(HEX, 3),
            self.string(HEX, 12)
        )
    }
}

/// Base64 (RFC 4648), written here rather than taken from the crate under test.
fn base64(data: &[u8], alphabet: &str, pad: bool) -> String {
    let a = alphabet.as_bytes();
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        let chars = chunk.len() + 1;
        for i in 0..4 {
            if i < chars {
                out.push(char::from(a[((n >> (18 - 6 * i)) & 63) as usize]));
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

fn b64(data: &[u8]) -> String {
    base64(data, B64, true)
}

fn b64url(data: &[u8]) -> String {
    base64(data, B64URL, false)
}

/// CRC-32 (IEEE), table-driven — independent of the bitwise one in the crate.
fn crc32(data: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (i, slot) in table.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *slot = c;
    }
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc = table[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc ^ 0xFFFF_FFFF
}

/// Base62 in six digits, left-padded with '0'.
fn crc_base62(body: &str) -> String {
    let digits = B62.as_bytes();
    let mut n = u64::from(crc32(body.as_bytes()));
    let mut out = Vec::new();
    while n > 0 {
        out.push(digits[(n % 62) as usize]);
        n /= 62;
    }
    while out.len() < 6 {
        out.push(b'0');
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// A GitHub/npm-style token: prefix + 30 random base62 + 6-digit base62 CRC-32.
fn checksummed(rng: &mut Rng, prefix: &str) -> String {
    let body = rng.string(B62, 30);
    format!("{prefix}{body}{}", crc_base62(&body))
}

/// A password a person or a generator would set: mixed case and digits.
fn password(rng: &mut Rng) -> String {
    format!("Zq8{}x4!", rng.string(B62, 13))
}

// ------------------------------------------------------------------ samples

struct Sample {
    id: &'static str,
    text: String,
    secret: String,
}

/// `template` holds `@@` where the secret goes.
fn sample(out: &mut Vec<Sample>, id: &'static str, secret: &str, template: &str) {
    assert!(template.contains("@@"), "{id}: template without @@");
    out.push(Sample {
        id,
        text: template.replace("@@", secret),
        secret: secret.to_owned(),
    });
}

fn pem(rng: &mut Rng, label: &str, bytes: usize) -> String {
    let body = b64(&rng.bytes(bytes));
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----",
        lines.join("\n")
    )
}

#[allow(clippy::too_many_lines)]
fn samples() -> Vec<Sample> {
    let mut r = Rng(0x5eed_0fa9_e7b0_c5d1);
    let v = &mut Vec::new();

    // private keys
    let k = pem(&mut r, "PGP PRIVATE KEY BLOCK", 600);
    sample(
        v,
        "pgp_private_key",
        &k,
        "$ gpg --armor --export-secret-keys ops@corp\n@@\n",
    );
    let k = pem(&mut r, "RSA PRIVATE KEY", 900);
    sample(v, "private_key", &k, "$ cat ~/.ssh/id_rsa\n@@\n$ ");
    let k = pem(&mut r, "OPENSSH PRIVATE KEY", 300);
    sample(v, "private_key", &k, "id_ed25519:\n@@\n");
    let k = pem(&mut r, "EC PRIVATE KEY", 120);
    sample(v, "private_key", &k, "key.pem\n@@");
    let k = pem(&mut r, "ENCRYPTED PRIVATE KEY", 400);
    sample(v, "private_key", &k, "@@\n");
    // A private key inside a JSON string (escaped newlines).
    let k = pem(&mut r, "PRIVATE KEY", 300).replace('\n', "\\n");
    sample(
        v,
        "private_key",
        &k,
        r#"{"private_key": "@@\n", "client_email": "svc@proj.iam"}"#,
    );
    let k = format!(
        "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy\nPublic-Lines: 2\n{}\n{}\nPrivate-Lines: 1\n{}\nPrivate-MAC: {}",
        r.string(B64, 64),
        r.string(B64, 4),
        r.string(B64, 44),
        r.string(HEX, 64)
    );
    sample(v, "putty_private_key", &k, "deploy.ppk:\n@@\n");

    // cloud providers
    let k = format!("AKIA{}", r.string(BASE32, 16));
    sample(
        v,
        "aws_access_key_id",
        &k,
        "[default]\naws_access_key_id = @@\nregion = eu-west-1\n",
    );
    let k = format!("ASIA{}", r.string(BASE32, 16));
    sample(
        v,
        "aws_access_key_id",
        &k,
        r#"{"Credentials": {"AccessKeyId": "@@"}}"#,
    );
    let k = format!("AKIA{}", r.string(BASE32, 16));
    sample(
        v,
        "aws_access_key_id",
        &k,
        r#"{"log": "line one\n@@\nline three"}"#,
    );
    let k = format!("IQoJb3JpZ2luX2Vj{}", r.string(B64, 320));
    sample(
        v,
        "aws_session_token",
        &k,
        "{\n  \"SessionToken\": \"@@\",\n  \"Expiration\": \"2025-01-01T00:00:00Z\"\n}",
    );
    let k = format!("amzn.mws.{}", r.uuid());
    sample(v, "aws_mws_auth_token", &k, "MWS_AUTH_TOKEN=@@\n");
    let k = r.string(HEX, 40);
    let pk = pem(&mut r, "PRIVATE KEY", 200).replace('\n', "\\n");
    sample(
        v,
        "gcp_service_account",
        &k,
        &format!(
            "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"acme-prod\",\n  \"private_key_id\": \"@@\",\n  \"private_key\": \"{pk}\\n\",\n  \"client_email\": \"ci@acme-prod.iam.gserviceaccount.com\"\n}}"
        ),
    );
    let k = format!("AIza{}", r.string(B64URL, 35));
    sample(
        v,
        "gcp_api_key",
        &k,
        "const firebaseConfig = { apiKey: \"@@\", authDomain: \"acme.firebaseapp.com\" };",
    );
    let k = format!("GOCSPX-{}", r.string(B64URL, 28));
    sample(
        v,
        "google_oauth_client_secret",
        &k,
        r#"{"web":{"client_id":"1234-abc.apps.googleusercontent.com","client_secret":"@@"}}"#,
    );
    let k = format!("ya29.{}", r.string(B64URL, 160));
    sample(
        v,
        "google_oauth_access_token",
        &k,
        "DEBUG request headers: {'Authorization': 'OAuth @@'}",
    );
    let k = format!("{}==", r.string(B64, 86));
    sample(
        v,
        "azure_storage_key",
        &k,
        "AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey=@@;EndpointSuffix=core.windows.net",
    );
    let k = format!("{}=", r.string(B64, 43));
    sample(
        v,
        "azure_shared_access_key",
        &k,
        "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=@@",
    );
    let k = format!("{}=", r.string(B64, 43))
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    sample(
        v,
        "azure_sas_token",
        &k,
        "GET https://acme.blob.core.windows.net/backups/db.tar?sv=2022-11-02&ss=b&srt=o&sp=r&se=2025-01-01T00:00:00Z&st=2024-01-01T00:00:00Z&spr=https&sig=@@ 200",
    );
    let k = format!(
        "{}{}Q~{}",
        r.string(B62, 3),
        r.string(DIGITS, 1),
        r.string(B62, 34)
    );
    sample(
        v,
        "azure_ad_client_secret",
        &k,
        r#"{"tenantId": "contoso", "clientSecret": "@@"}"#,
    );
    let k = format!("LTAI{}", r.string(B62, 20));
    sample(v, "alibaba_access_key_id", &k, "accessKeyId: @@\n");
    let k = format!("AKID{}", r.string(B62, 32));
    sample(v, "tencent_secret_id", &k, "TENCENTCLOUD_SECRET_ID=@@\n");
    let k = format!("dop_v1_{}", r.string(HEX, 64));
    sample(
        v,
        "digitalocean_token",
        &k,
        "doctl auth init --access-token @@",
    );
    let k = format!("doo_v1_{}", r.string(HEX, 64));
    sample(v, "digitalocean_token", &k, "token: @@");
    let k = format!("dor_v1_{}", r.string(HEX, 64));
    sample(
        v,
        "digitalocean_refresh_token",
        &k,
        r#"{"refresh_token":"@@"}"#,
    );
    let k = format!("HRKU-AA{}", r.string(B64URL, 58));
    sample(v, "heroku_api_key", &k, "heroku auth:token\n@@\n");
    let k = r.uuid();
    sample(v, "heroku_api_key", &k, "HEROKU_API_KEY=@@\n");
    let k = format!("dapi{}", r.string(HEX, 32));
    sample(
        v,
        "databricks_token",
        &k,
        "[DEFAULT]\nhost = https://adb-123.azuredatabricks.net\ntoken = @@\n",
    );
    let k = format!("v1.0-{}-{}", r.string(HEX, 24), r.string(HEX, 146));
    sample(v, "cloudflare_origin_ca_key", &k, "origin_ca_key = \"@@\"");

    // code hosting, CI, registries
    for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
        let k = checksummed(&mut r, prefix);
        sample(
            v,
            "github_token",
            &k,
            "remote: https://github.com/acme/app\nGITHUB_TOKEN=@@\n",
        );
    }
    let k = checksummed(&mut r, "ghp_");
    sample(
        v,
        "github_token",
        &k,
        "$ git remote -v\norigin  https://x-access-token:@@@github.com/acme/app.git (fetch)",
    );
    let k = format!("github_pat_{}_{}", r.string(B62, 22), r.string(B62, 59));
    sample(
        v,
        "github_fine_grained_pat",
        &k,
        "gh auth login --with-token <<< @@",
    );
    let k = format!("glpat-{}", r.string(B64URL, 20));
    sample(v, "gitlab_token", &k, "CI_JOB: using token @@ for api");
    let k = format!("glrt-{}", r.string(B62, 20));
    sample(v, "gitlab_token", &k, "token = \"@@\"");
    let k = format!("glptt-{}", r.string(HEX, 40));
    sample(
        v,
        "gitlab_token",
        &k,
        "curl -X POST -F token=@@ -F ref=main https://gitlab.com/api/v4/projects/1/trigger/pipeline",
    );
    let k = format!("GR1348941{}", r.string(B64URL, 20));
    sample(
        v,
        "gitlab_token",
        &k,
        "gitlab-runner register --registration-token @@",
    );
    let k = format!("ATBB{}{}", r.string(B62, 32), r.string(HEX_UPPER, 8));
    sample(v, "bitbucket_app_password", &k, "BITBUCKET_APP_PASSWORD=@@");
    let k = format!("ATATT3{}={}", r.string(B64URL, 177), r.string(HEX_UPPER, 8));
    sample(v, "atlassian_api_token", &k, "JIRA_API_TOKEN=@@\n");
    let k = checksummed(&mut r, "npm_");
    sample(v, "npm_token", &k, "//registry.npmjs.org/:_authToken=@@\n");
    let k = format!("pypi-AgEIcHlwaS5vcmc{}", r.string(B64URL, 160));
    sample(
        v,
        "pypi_token",
        &k,
        "[pypi]\n  username = __token__\n  password = @@\n",
    );
    let k = format!("rubygems_{}", r.string(HEX, 48));
    sample(v, "rubygems_api_key", &k, "---\n:rubygems_api_key: @@\n");
    let k = format!("oy2{}", r.string(LOWER_ALNUM, 43));
    sample(
        v,
        "nuget_api_key",
        &k,
        "dotnet nuget push pkg.nupkg --api-key @@ --source nuget.org",
    );
    let k = format!("CLOJARS_{}", r.string(LOWER_ALNUM, 60));
    sample(v, "clojars_token", &k, "CLOJARS_PASSWORD=@@");
    let k = format!("dckr_pat_{}", r.string(B64URL, 27));
    sample(
        v,
        "docker_hub_token",
        &k,
        "echo @@ | docker login -u acme --password-stdin",
    );
    let k = format!("AKCp{}", r.string(B62, 69));
    sample(v, "artifactory_api_key", &k, "X-JFrog-Art-Api: @@");
    let k = format!("cmVmd{}", r.string(B62, 59));
    sample(
        v,
        "artifactory_reference_token",
        &k,
        "JFROG_ACCESS_TOKEN=@@",
    );
    let k = format!("squ_{}", r.string(HEX, 40));
    sample(v, "sonarqube_token", &k, "mvn sonar:sonar -Dsonar.token=@@");
    let k = format!("API-{}", r.string(UPPER_ALNUM, 26));
    sample(
        v,
        "octopus_deploy_api_key",
        &k,
        "octo push --apiKey @@ --server https://octo.internal",
    );
    let k = format!("pul-{}", r.string(HEX, 40));
    sample(v, "pulumi_token", &k, "export PULUMI_ACCESS_TOKEN=@@");
    let k = format!("{}.atlasv1.{}", r.string(B62, 14), r.string(B62, 67));
    sample(
        v,
        "terraform_cloud_token",
        &k,
        "credentials \"app.terraform.io\" {\n  token = \"@@\"\n}",
    );
    let k = format!("hvs.{}", r.string(B64URL, 95));
    sample(
        v,
        "hashicorp_vault_token",
        &k,
        "Key                  Value\n---                  -----\ntoken                @@\ntoken_accessor       x\n",
    );
    let k = format!("hvb.{}", r.string(B64URL, 150));
    sample(v, "hashicorp_vault_token", &k, "VAULT_TOKEN=@@");
    let k = format!("dp.pt.{}", r.string(B62, 43));
    sample(v, "doppler_token", &k, "DOPPLER_TOKEN=@@");
    let k = format!("dp.st.prd.{}", r.string(B62, 43));
    sample(v, "doppler_token", &k, "doppler run --token @@ -- ./app");
    let k = format!("PMAK-{}-{}", r.string(HEX, 24), r.string(HEX, 34));
    sample(v, "postman_api_key", &k, "x-api-key: @@");
    let k = format!(
        "pat.{}.{}.{}",
        r.string(B64URL, 22),
        r.string(B62, 24),
        r.string(B62, 20)
    );
    sample(v, "harness_api_key", &k, "HARNESS_API_KEY=@@");
    let k = format!("sha256~{}", r.string(B64URL, 43));
    sample(
        v,
        "openshift_user_token",
        &k,
        "oc login --token=@@ --server=https://api.ocp.internal:6443",
    );
    let k = format!("ico-{}", r.string(B62, 32));
    sample(v, "infracost_api_key", &k, "INFRACOST_API_KEY=@@");
    let k = format!("pnu_{}", r.string(B62, 36));
    sample(v, "prefect_api_key", &k, "PREFECT_API_KEY=@@");
    let k = format!("rdme_{}", r.string(LOWER_ALNUM, 70));
    sample(v, "readme_api_key", &k, "rdme openapi --key=@@");
    let k = format!("tk-us-{}", r.string(B64URL, 48));
    sample(v, "scalingo_api_token", &k, "SCALINGO_API_TOKEN=@@");
    let k = format!("fo1_{}", r.string(B64URL, 43));
    sample(v, "flyio_token", &k, "FLY_API_TOKEN=@@");
    let k = format!("fm2_{}", r.string(B64, 180));
    sample(v, "flyio_token", &k, "FLY_API_TOKEN=\"FlyV1 @@,fm2_\"");
    let k = format!("pscale_tkn_{}", r.string(B64URL, 43));
    sample(v, "planetscale_token", &k, "PLANETSCALE_SERVICE_TOKEN=@@");
    let k = format!("pscale_pw_{}", r.string(B64URL, 43));
    sample(v, "planetscale_password", &k, "DATABASE_PASSWORD=@@");
    let k = format!("sbp_{}", r.string(HEX, 40));
    sample(v, "supabase_token", &k, "supabase login --token @@");
    let k = format!("nfp_{}", r.string(B62, 36));
    sample(v, "netlify_token", &k, "NETLIFY_AUTH_TOKEN=@@");
    let k = format!("AGE-SECRET-KEY-1{}", r.string(BECH32_UPPER, 58));
    sample(
        v,
        "age_secret_key",
        &k,
        "# created: 2024-01-01T00:00:00Z\n# public key: age1xyz\n@@\n",
    );
    let k = format!("ops_eyJ{}", r.string(B64, 300));
    sample(
        v,
        "onepassword_service_account_token",
        &k,
        "OP_SERVICE_ACCOUNT_TOKEN=@@\n",
    );
    let k = format!(
        "A3-{}-{}-{}-{}-{}",
        r.string(UPPER_ALNUM, 6),
        r.string(UPPER_ALNUM, 11),
        r.string(UPPER_ALNUM, 5),
        r.string(UPPER_ALNUM, 5),
        r.string(UPPER_ALNUM, 5)
    );
    sample(v, "onepassword_secret_key", &k, "Secret Key: @@\n");

    // messaging and webhooks
    let k = format!(
        "xoxb-{}-{}-{}",
        r.string(DIGITS, 12),
        r.string(DIGITS, 13),
        r.string(B62, 24)
    );
    sample(v, "slack_token", &k, "SLACK_BOT_TOKEN=@@");
    let k = format!(
        "xoxp-{}-{}-{}-{}",
        r.string(DIGITS, 11),
        r.string(DIGITS, 12),
        r.string(DIGITS, 13),
        r.string(HEX, 32)
    );
    sample(
        v,
        "slack_token",
        &k,
        r#"{"ok":true,"access_token":"@@","scope":"chat:write"}"#,
    );
    let k = format!(
        "xapp-1-A{}-{}-{}",
        r.string(UPPER_ALNUM, 10),
        r.string(DIGITS, 13),
        r.string(HEX, 64)
    );
    sample(v, "slack_app_token", &k, "SLACK_APP_TOKEN=@@");
    let k = format!(
        "https://hooks.slack.com/services/T{}/B{}/{}",
        r.string(UPPER_ALNUM, 8),
        r.string(UPPER_ALNUM, 10),
        r.string(B62, 24)
    );
    sample(
        v,
        "slack_webhook",
        &k,
        "curl -X POST -H 'Content-type: application/json' --data '{\"text\":\"hi\"}' @@",
    );
    let k = format!(
        "{}.{}.{}",
        b64url(r.string(DIGITS, 18).as_bytes()),
        r.string(B64URL, 6),
        r.string(B64URL, 27)
    );
    sample(v, "discord_bot_token", &k, "DISCORD_TOKEN=@@\n");
    let k = format!(
        "{}.{}.{}",
        b64url(format!("1{}", r.string(DIGITS, 18)).as_bytes()),
        r.string(B64URL, 6),
        r.string(B64URL, 38)
    );
    sample(v, "discord_bot_token", &k, "client.run('@@')  # discord.py");
    let k = format!(
        "https://discord.com/api/webhooks/{}/{}",
        r.string(DIGITS, 18),
        r.string(B64URL, 68)
    );
    sample(v, "discord_webhook", &k, "webhook_url = \"@@\"");
    let k = format!(
        "https://acme.webhook.office.com/webhookb2/{}@{}/IncomingWebhook/{}/{}",
        r.uuid(),
        r.uuid(),
        r.string(LOWER_ALNUM, 32),
        r.uuid()
    );
    sample(v, "microsoft_teams_webhook", &k, "TEAMS_WEBHOOK=@@\n");
    let k = format!("{}:AA{}", r.string(DIGITS, 10), r.string(B64URL, 33));
    sample(
        v,
        "telegram_bot_token",
        &k,
        "POST https://api.telegram.org/bot@@/sendMessage",
    );
    let k = format!("SK{}", r.string(HEX, 32));
    sample(
        v,
        "twilio_api_key",
        &k,
        "client = Client('@@', api_secret, account_sid)",
    );
    let k = format!("SG.{}.{}", r.string(B64URL, 22), r.string(B64URL, 43));
    sample(v, "sendgrid_api_key", &k, "SENDGRID_API_KEY=@@");
    let k = format!("xkeysib-{}-{}", r.string(HEX, 64), r.string(B62, 16));
    sample(v, "sendinblue_api_key", &k, "api-key: @@");
    let k = format!("{}-us21", r.string(HEX, 32));
    sample(v, "mailchimp_api_key", &k, "MAILCHIMP_KEY=@@");
    let k = format!("key-{}", r.string(HEX, 32));
    sample(
        v,
        "mailgun_api_key",
        &k,
        "mailgun:\n  domain: mg.acme.io\n  api: @@\n",
    );

    // payments and commerce
    let k = format!("sk_live_{}", r.string(B62, 99));
    sample(v, "stripe_secret_key", &k, "Stripe.api_key = \"@@\"");
    let k = format!("rk_test_{}", r.string(B62, 24));
    sample(v, "stripe_secret_key", &k, "stripe listen --api-key @@");
    let k = format!("whsec_{}", r.string(B62, 32));
    sample(
        v,
        "stripe_webhook_secret",
        &k,
        "Ready! Your webhook signing secret is @@ (^C to quit)",
    );
    let k = format!("EAAA{}", r.string(B64URL, 60));
    sample(v, "square_access_token", &k, "SQUARE_ACCESS_TOKEN=@@\n");
    let k = format!("sq0atp-{}", r.string(B64URL, 22));
    sample(v, "square_access_token", &k, "square token @@ ok");
    let k = format!("sq0csp-{}", r.string(B64URL, 43));
    sample(v, "square_oauth_secret", &k, "application_secret: @@");
    let k = format!(
        "access_token$production${}${}",
        r.string(LOWER_ALNUM, 16),
        r.string(HEX, 32)
    );
    sample(
        v,
        "braintree_access_token",
        &k,
        "gateway = braintree.BraintreeGateway(access_token=\"@@\")",
    );
    let k = format!("shpat_{}", r.string(HEX, 32));
    sample(v, "shopify_access_token", &k, "X-Shopify-Access-Token: @@");
    let k = format!("shpss_{}", r.string(HEX, 32));
    sample(v, "shopify_shared_secret", &k, "SHOPIFY_API_SECRET=@@");
    let k = format!("shippo_live_{}", r.string(HEX, 40));
    sample(v, "shippo_api_token", &k, "Authorization: ShippoToken @@");
    let k = format!("EZAK{}", r.string(B62, 54));
    sample(v, "easypost_api_key", &k, "EASYPOST_API_KEY=@@");
    let k = format!("duffel_test_{}", r.string(B64URL, 43));
    sample(v, "duffel_api_token", &k, "DUFFEL_ACCESS_TOKEN=@@");
    let k = format!("access-sandbox-{}", r.uuid());
    sample(
        v,
        "plaid_access_token",
        &k,
        r#"{"access_token": "@@", "item_id": "x"}"#,
    );
    let k = format!("FLWSECK_TEST-{}-X", r.string("abcdefgh0123456789", 32));
    sample(v, "flutterwave_secret_key", &k, "FLW_SECRET_KEY=@@");

    // AI providers
    let k = format!(
        "sk-proj-{}T3BlbkFJ{}",
        r.string(B64URL, 74),
        r.string(B64URL, 74)
    );
    sample(v, "openai_api_key", &k, "OPENAI_API_KEY=@@\n");
    let k = format!("sk-{}T3BlbkFJ{}", r.string(B62, 20), r.string(B62, 20));
    sample(v, "openai_api_key", &k, "openai.api_key = '@@'");
    let k = format!("sk-svcacct-{}", r.string(B64URL, 120));
    sample(v, "openai_api_key", &k, "key: @@");
    let k = format!("sk-ant-api03-{}AA", r.string(B64URL, 93));
    sample(
        v,
        "anthropic_api_key",
        &k,
        "export ANTHROPIC_API_KEY=\"@@\"",
    );
    let k = format!("sk-ant-admin01-{}AA", r.string(B64URL, 93));
    sample(v, "anthropic_admin_key", &k, "x-api-key: @@\r\n");
    let k = format!("hf_{}", r.string(LETTERS, 34));
    sample(
        v,
        "huggingface_token",
        &k,
        "huggingface-cli login --token @@",
    );
    let k = format!("gsk_{}", r.string(B62, 52));
    sample(v, "groq_api_key", &k, "GROQ_API_KEY=@@");
    let k = format!("r8_{}", r.string(B62, 37));
    sample(v, "replicate_api_token", &k, "REPLICATE_API_TOKEN=@@");
    let k = format!("pplx-{}", r.string(B62, 48));
    sample(v, "perplexity_api_key", &k, "Authorization: Bearer @@");
    let k = format!("xai-{}", r.string(B62, 80));
    sample(v, "xai_api_key", &k, "XAI_API_KEY=@@");
    let k = format!("sk-or-v1-{}", r.string(HEX, 64));
    sample(v, "openrouter_api_key", &k, "OPENROUTER_API_KEY=@@");
    let k = format!("lsv2_pt_{}_{}", r.string(HEX, 32), r.string(HEX, 10));
    sample(v, "langsmith_api_key", &k, "LANGSMITH_API_KEY=@@");
    let k = r.string(B62, 40);
    sample(v, "cohere_api_key", &k, "COHERE_API_KEY=@@\n");

    // SaaS and developer tools
    let k = format!("lin_api_{}", r.string(B62, 40));
    sample(v, "linear_api_key", &k, "LINEAR_API_KEY=@@");
    let k = format!("ntn_{}{}", r.string(DIGITS, 11), r.string(B62, 35));
    sample(v, "notion_token", &k, "NOTION_TOKEN=@@");
    let k = format!("secret_{}", r.string(B62, 43));
    sample(v, "notion_token", &k, "new Client({ auth: \"@@\" })");
    let k = format!("NRAK-{}", r.string(UPPER_ALNUM, 27));
    sample(v, "new_relic_api_key", &k, "NEW_RELIC_API_KEY=@@");
    let k = format!("NRII-{}", r.string(B64URL, 32));
    sample(v, "new_relic_insert_key", &k, "X-Insert-Key: @@");
    let k = format!("sntryu_{}", r.string(HEX, 64));
    sample(v, "sentry_auth_token", &k, "SENTRY_AUTH_TOKEN=@@");
    let k = format!("sntrys_eyJ{}_{}", r.string(B64, 120), r.string(B64, 43));
    sample(v, "sentry_auth_token", &k, "auth.token=@@\n");
    let k = r.string(HEX, 32);
    sample(
        v,
        "sentry_dsn",
        &k,
        "SENTRY_DSN=https://@@@o450000.ingest.sentry.io/4500000",
    );
    let k = format!("glc_{}", r.string(B64, 120));
    sample(v, "grafana_cloud_token", &k, "GRAFANA_CLOUD_TOKEN=@@\n");
    let k = format!("glsa_{}_{}", r.string(B62, 32), r.string(HEX, 8));
    sample(
        v,
        "grafana_service_account_token",
        &k,
        "Authorization: Bearer @@",
    );
    let k = format!("eyJrIjoi{}", r.string(B62, 100));
    sample(v, "grafana_api_key", &k, "grafana_api_key: @@");
    let k = format!(
        "dt0c01.{}.{}",
        r.string(UPPER_ALNUM, 24),
        r.string(UPPER_ALNUM, 64)
    );
    sample(v, "dynatrace_api_token", &k, "Api-Token @@");
    let k = format!("sk.eyJ{}.{}", r.string(B64URL, 60), r.string(B64URL, 22));
    sample(v, "mapbox_secret_token", &k, "MAPBOX_DOWNLOADS_TOKEN=@@");
    let k = format!("sl.{}", r.string(B64URL, 140));
    sample(v, "dropbox_token", &k, "dbx = dropbox.Dropbox('@@')");
    let k = format!("pat{}.{}", r.string(B62, 14), r.string(HEX, 64));
    sample(v, "airtable_pat", &k, "AIRTABLE_TOKEN=@@");
    let k = format!("CFPAT-{}", r.string(B64URL, 43));
    sample(
        v,
        "contentful_pat",
        &k,
        "contentful login --management-token @@",
    );
    let k = format!("figd_{}", r.string(B64URL, 40));
    sample(v, "figma_token", &k, "X-Figma-Token: @@");
    let k = format!("pat-na1-{}", r.uuid());
    sample(
        v,
        "hubspot_private_app_token",
        &k,
        "HUBSPOT_ACCESS_TOKEN=@@",
    );
    let k = format!("EAAG{}", r.string(B62, 150));
    sample(
        v,
        "facebook_access_token",
        &k,
        "GET /v19.0/me?access_token=@@ HTTP/1.1",
    );
    let k = format!(
        "{}{}%2B{}%3D{}",
        "A".repeat(22),
        r.string(B62, 40),
        r.string(B62, 30),
        r.string(B62, 20)
    );
    sample(v, "twitter_bearer_token", &k, "TWITTER_BEARER=@@\n");
    let k = format!("tfp_{}", r.string(B64URL, 59));
    sample(v, "typeform_api_token", &k, "TYPEFORM_TOKEN=@@");
    let k = format!("fio-u-{}", r.string(B64URL, 64));
    sample(v, "frameio_api_token", &k, "FRAMEIO_TOKEN=@@");
    let k = format!("p8e-{}", r.string(B62, 32));
    sample(v, "adobe_client_secret", &k, "ADOBE_CLIENT_SECRET=@@");
    let k = format!("{}_{}_mmk", r.string(B62, 6), r.string(B62, 29));
    sample(v, "maxmind_license_key", &k, "LicenseKey @@\n");

    // JWT
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = b64url(br#"{"sub":"1234567890","name":"svc","iat":1700000000}"#);
    let k = format!("{header}.{payload}.{}", b64url(&r.bytes(32)));
    sample(v, "jwt", &k, "Authorization: Bearer @@\r\n");
    let header = b64url(br#"{"typ":"JWT","alg":"RS256","kid":"k1"}"#);
    let k = format!("{header}.{payload}.{}", b64url(&r.bytes(256)));
    sample(v, "jwt", &k, r#"{"id_token": "@@", "expires_in": 3600}"#);

    // URLs and headers
    let k = password(&mut r);
    sample(
        v,
        "connection_string",
        &k,
        "DATABASE_URL=postgresql://app_user:@@@db.internal:5432/app?sslmode=require",
    );
    let k = password(&mut r);
    sample(
        v,
        "connection_string",
        &k,
        "mongodb+srv://admin:@@@cluster0.ab1cd.mongodb.net/prod",
    );
    let k = password(&mut r);
    sample(
        v,
        "connection_string",
        &k,
        "REDIS_URL=redis://:@@@cache.internal:6379/0",
    );
    let k = password(&mut r);
    sample(
        v,
        "connection_string",
        &k,
        "jdbc:mysql://report:@@@10.0.0.5:3306/sales",
    );
    let k = password(&mut r);
    sample(
        v,
        "connection_string",
        &k,
        "broker: amqps://svc:@@@mq.internal/vhost",
    );
    let k = password(&mut r);
    sample(
        v,
        "url_credentials",
        &k,
        "Cloning into 'app'...\nfatal: unable to access 'https://deploy:@@@git.corp.internal/app.git/'",
    );
    let k = r.string(B64URL, 40);
    sample(
        v,
        "bearer_token",
        &k,
        "curl -H \"Authorization: Bearer @@\" https://api.internal/v1/me",
    );
    let k = r.string(B62, 32);
    sample(
        v,
        "bearer_token",
        &k,
        r#"{"headers": {"Authorization": "token @@"}}"#,
    );
    let k = b64(format!("svc-backup:{}", password(&mut r)).as_bytes());
    sample(
        v,
        "basic_auth",
        &k,
        "> GET /api HTTP/1.1\r\n> Authorization: Basic @@\r\n",
    );
    let k = b64(format!("ci-bot:{}", password(&mut r)).as_bytes());
    sample(
        v,
        "docker_config_auth",
        &k,
        "{\n  \"auths\": {\n    \"registry.corp.internal\": {\n      \"auth\": \"@@\"\n    }\n  }\n}",
    );

    // vendor keys known by their key name
    let k = r.string(B64, 40);
    sample(
        v,
        "aws_secret_access_key",
        &k,
        "[default]\naws_access_key_id = AKIA\naws_secret_access_key = @@\n",
    );
    let k = r.string(B64, 40);
    sample(
        v,
        "aws_secret_access_key",
        &k,
        r#"{"Credentials": {"SecretAccessKey": "@@", "SessionToken": "x"}}"#,
    );
    let k = r.string(HEX, 32);
    sample(
        v,
        "datadog_api_key",
        &k,
        "DD_API_KEY=@@\nDD_SITE=datadoghq.eu\n",
    );
    let k = r.string(HEX, 40);
    sample(
        v,
        "datadog_app_key",
        &k,
        "datadog:\n  app_key: x\n  dd_app_key: \"@@\"\n",
    );
    let k = format!("00{}", r.string(B64URL, 40));
    sample(v, "okta_api_token", &k, "OKTA_API_TOKEN=\"@@\"");
    let k = r.uuid();
    sample(v, "snyk_token", &k, "SNYK_TOKEN=@@");
    let k = r.string(HEX, 32);
    sample(v, "algolia_admin_key", &k, "ALGOLIA_ADMIN_KEY=@@");
    let k = r.string(B64URL, 40);
    sample(v, "cloudflare_api_token", &k, "CLOUDFLARE_API_TOKEN=@@\n");
    let k = r.string(HEX, 37);
    sample(
        v,
        "cloudflare_global_api_key",
        &k,
        "CF_API_KEY=@@\nCF_API_EMAIL=ops@acme.io",
    );
    let k = r.string(HEX, 32);
    sample(v, "twilio_auth_token", &k, "TWILIO_AUTH_TOKEN=@@");
    let k = r.string(B62, 64);
    sample(
        v,
        "bitbucket_client_secret",
        &k,
        "BITBUCKET_CLIENT_SECRET=@@",
    );
    let k = format!("1/{}:{}", r.string(DIGITS, 16), r.string(B62, 32));
    sample(v, "asana_token", &k, "asana:\n  pat: @@\n");
    let k = r.string(B62, 30);
    sample(
        v,
        "alibaba_access_key_secret",
        &k,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET=@@",
    );

    // generic assignments
    let k = password(&mut r);
    sample(
        v,
        "password_assignment",
        &k,
        "DB_HOST=db\nDB_PASSWORD=@@\nDB_PORT=5432\n",
    );
    let k = password(&mut r);
    sample(
        v,
        "password_assignment",
        &k,
        r#"{"username": "svc", "password": "@@"}"#,
    );
    let k = password(&mut r);
    sample(
        v,
        "password_assignment",
        &k,
        "spring:\n  datasource:\n    password: '@@'\n",
    );
    let k = password(&mut r);
    sample(
        v,
        "password_assignment",
        &k,
        "<connection>\n  <user>sa</user>\n  <password>@@</password>\n</connection>",
    );
    let k = password(&mut r);
    sample(
        v,
        "password_assignment",
        &k,
        "Server=tcp:sql.internal,1433;User ID=sa;Password=@@;Encrypt=True;",
    );
    let k = r.string(HEX, 40);
    sample(
        v,
        "password_assignment",
        &k,
        "client = Client(api_key=\"@@\")",
    );
    let k = r.string(B64URL, 48);
    sample(
        v,
        "password_assignment",
        &k,
        "oauth:\n  client_secret: @@\n",
    );
    let k = format!("{}{}", r.string(B62, 30), "9a");
    sample(v, "password_assignment", &k, "SECRET_KEY_BASE=@@");
    let k = password(&mut r);
    sample(
        v,
        "password_assignment",
        &k,
        r#"{"log": "{\"user\": \"svc\", \"password\": \"@@\"}"}"#,
    );
    let k = r.string(B62, 32);
    sample(
        v,
        "password_assignment",
        &k,
        "GET /v1/report?format=csv&access_token=@@&page=2",
    );
    let k = password(&mut r);
    sample(
        v,
        "password_assignment",
        &k,
        "mysql --host=db --user=root --password=@@ sales",
    );
    // Shapes from garak's apikey regexes.
    let k = format!("ya29.{}", r.string(B62, 40));
    sample(
        v,
        "google_oauth_access_token",
        &k,
        "Authorization token: @@ (expires in 3599 s)",
    );
    let k = format!("AAAA{}:{}", r.string(B62, 7), r.string(B62, 140));
    sample(v, "firebase_fcm_server_key", &k, "FCM_SERVER_KEY=@@");
    let k = r.string(B62, 24);
    sample(
        v,
        "cloudinary_url",
        &k,
        "CLOUDINARY_URL=cloudinary://123456789012345:@@@demo-cloud",
    );
    let k = format!("hawk.{}.{}", r.string(B62, 20), r.string(B62, 20));
    sample(v, "stackhawk_api_key", &k, "HAWK_API_KEY=@@");
    let k = format!("NRRA-{}", r.string(B62, 42));
    sample(v, "new_relic_key", &k, "newrelic: @@");
    let k = format!("R_{}", r.string("0123456789abcdef", 32));
    sample(v, "bitly_access_token", &k, "bitly access: @@");
    let k = format!(
        "RGAPI-{}-{}-{}-{}-{}",
        r.string("0123456789abcdef", 8),
        r.string("0123456789abcdef", 4),
        r.string("0123456789abcdef", 4),
        r.string("0123456789abcdef", 4),
        r.string("0123456789abcdef", 12)
    );
    sample(v, "riot_games_api_key", &k, "X-Riot-Token: @@");
    let k = format!(
        "https://hooks.zapier.com/hooks/catch/{}/{}/",
        r.string(B62, 8),
        r.string(B62, 6)
    );
    sample(v, "zapier_webhook", &k, "POST @@ with the order");
    std::mem::take(v)
}

// ------------------------------------------------------------------ tests

#[test]
fn every_sample_is_found_with_its_exact_span() {
    let mut failures = Vec::new();
    for s in samples() {
        let found = scan(&s.text);
        let hit = found
            .iter()
            .any(|f| f.ty == s.id && s.text.get(f.start..f.end) == Some(s.secret.as_str()));
        if !hit {
            let got: Vec<String> = found
                .iter()
                .map(|f| format!("{} {:?}", f.ty, s.text.get(f.start..f.end).unwrap_or("?")))
                .collect();
            failures.push(format!(
                "{}: expected {:?}\n  in {:?}\n  got {got:?}",
                s.id, s.secret, s.text
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} samples not found:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_finding_is_a_secret_with_the_rule_score() {
    for s in samples() {
        for f in scan(&s.text) {
            assert_eq!(f.kind, agentbox_guard::Kind::Secret);
            assert!(f.start < f.end && f.end <= s.text.len());
            assert!(
                (0.0..=1.0).contains(&f.score),
                "{}: score {}",
                f.ty,
                f.score
            );
        }
    }
}

#[test]
fn every_type_id_has_a_sample() {
    let covered: BTreeSet<&str> = samples().iter().map(|s| s.id).collect();
    let missing: Vec<&str> = type_ids().filter(|id| !covered.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "type ids without a positive sample: {missing:?}"
    );
    let unknown: Vec<&str> = covered
        .iter()
        .copied()
        .filter(|id| !type_ids().any(|t| t == *id))
        .collect();
    assert!(unknown.is_empty(), "samples for unknown ids: {unknown:?}");
}

#[test]
fn type_ids_are_many_unique_and_snake_case() {
    let ids: Vec<&str> = type_ids().collect();
    assert!(ids.len() >= 60, "only {} type ids", ids.len());
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate type ids");
    for id in ids {
        let snake = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && id.as_bytes()[0].is_ascii_lowercase()
            && !id.ends_with('_')
            && !id.contains("__");
        assert!(snake, "{id:?} is not snake_case");
    }
}

#[test]
fn checksum_helper_matches_an_independent_reference() {
    // Reference values from Python's binascii.crc32 and a base62 encoder
    // (0-9A-Za-z), computed outside this crate.
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    assert_eq!(crc_base62("abcdefghijklmnopqrstuvwxyz0123"), "2LolCm");
    assert_eq!(crc_base62("ZyXwVuTsRqPoNmLkJiHgFeDcBa9876"), "1AaaSE");
    // And the crate agrees: these bodies make valid tokens.
    for body in [
        "abcdefghijklmnopqrstuvwxyz0123",
        "ZyXwVuTsRqPoNmLkJiHgFeDcBa9876",
    ] {
        let text = format!("token: ghp_{body}{}", crc_base62(body));
        assert!(scan(&text).iter().any(|f| f.ty == "github_token"), "{text}");
    }
}

fn assert_clean(label: &str, text: &str) {
    let found = scan(text);
    let got: Vec<String> = found
        .iter()
        .map(|f| format!("{} {:?}", f.ty, text.get(f.start..f.end).unwrap_or("?")))
        .collect();
    assert!(
        found.is_empty(),
        "{label}: expected no finding, got {got:?}"
    );
}

#[test]
fn wrong_checksums_are_not_tokens() {
    let mut r = Rng(42);
    for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "npm_"] {
        let good = checksummed(&mut r, prefix);
        // Change one character of the random part: the checksum no longer fits.
        let mut bad: Vec<u8> = good.clone().into_bytes();
        bad[10] = if bad[10] == b'a' { b'b' } else { b'a' };
        let bad = String::from_utf8(bad).unwrap_or_default();
        assert_clean(prefix, &format!("found {bad} in the log"));
        // Or a checksum that is off by one digit.
        let mut off: Vec<u8> = good.into_bytes();
        let last = off.len() - 1;
        off[last] = if off[last] == b'0' { b'1' } else { b'0' };
        let off = String::from_utf8(off).unwrap_or_default();
        assert_clean(prefix, &format!("export TOKEN={off}"));
        // In an .npmrc the generic rule may still flag the value, but never as a
        // checksummed token.
        let text = format!("//registry.npmjs.org/:_authToken={bad}\n");
        assert!(
            scan(&text)
                .iter()
                .all(|f| f.ty != "npm_token" && f.ty != "github_token")
        );
    }
}

#[test]
fn look_alikes_are_not_secrets() {
    let mut r = Rng(7);
    let uuid = r.uuid();
    assert_clean(
        "uuid",
        &format!(
            "request_id={uuid} status=200 duration_ms=12\n{{\"id\": \"{}\"}}",
            r.uuid()
        ),
    );
    assert_clean(
        "git log",
        &format!(
            "commit {}\nMerge: {} {}\nAuthor: Dev <dev@corp.io>\n\n    fix parser\n",
            r.string(HEX, 40),
            r.string(HEX, 7),
            r.string(HEX, 7)
        ),
    );
    assert_clean(
        "sha256",
        &format!(
            "{}  release.tar.gz\nDigest: sha256:{}\n\"integrity\": \"sha512-{}\"",
            r.string(HEX, 64),
            r.string(HEX, 64),
            b64(&r.bytes(64))
        ),
    );
    assert_clean(
        "data uri",
        &format!(
            "<img src=\"data:image/png;base64,{}\">",
            b64(&r.bytes(3000))
        ),
    );
    assert_clean(
        "random base64 blob",
        &format!("{{\"blob\": \"{}\"}}", b64(&r.bytes(2000))),
    );
    assert_clean(
        "lorem",
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor \
         incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud \
         exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. The password \
         must be at least 12 characters; rotate your API key and secret every 90 days.",
    );
    assert_clean(
        "python env",
        "import os\n\
         api_key = os.environ[\"OPENAI_API_KEY\"]\n\
         password = os.getenv(\"DB_PASSWORD\")\n\
         secret = input(\"Secret: \")\n\
         password = input()\n\
         client_secret = settings.CLIENT_SECRET\n\
         auth_token = get_auth_token(user)\n\
         db_password = read_pw_from_file()\n\
         dbPassword = readPasswordFromVault()\n\
         password: Optional[str] = None\n\
         api_key = request.headers.get('X-Api-Key')\n",
    );
    assert_clean(
        "js env",
        "const apiKey = process.env.API_KEY;\n\
         const secret = config.get('jwt.secret');\n\
         const password = req.body.password;\n\
         fetch(url, { headers: { Authorization: `Bearer ${token}` } });\n\
         if (password === confirmPassword) { ok(); }\n",
    );
    assert_clean(
        "placeholders",
        "OPENAI_API_KEY=sk-...\n\
         api_key: YOUR_API_KEY\n\
         token: <token>\n\
         password: xxxxxxxx\n\
         password=changeme\n\
         \"api_key\": \"<your-api-key>\"\n\
         password: ${DB_PASSWORD}\n\
         password = \"********\"\n\
         client_secret: \"{{ vault_client_secret }}\"\n\
         api_key = \"%(api_key)s\"\n\
         STRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx\n\
         GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n\
         Authorization: Bearer <token>\n\
         Authorization: Bearer YOUR_ACCESS_TOKEN_HERE\n\
         Authorization: Basic dXNlcjpwYXNzd29yZA==\n\
         postgres://user:password@localhost:5432/db\n\
         mysql://root:root@localhost/test\n\
         redis://:${REDIS_PASSWORD}@redis:6379\n\
         https://user:pass@host.internal/\n\
         amqp://guest:guest@localhost:5672/\n",
    );
    assert_clean(
        "aws documentation keys",
        &format!(
            "AWS_ACCESS_KEY_ID=AKIA{}\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCY{}\n",
            "IOSFODNN7EXAMPLE", "EXAMPLEKEY"
        ),
    );
    assert_clean(
        "config words",
        "password_policy: strict\n\"password_required\": true\nsecret_name: prod-db-credentials\n\
         secret: my-app-secret\npassword: development\napi_key: required\ncache_key=user:1234:profile\n\
         primary_key: id\nsort_key=created_at\ntoken_type=Bearer\naccess_token_expires_in=3600\n\
         PWD=/home/agent/project\nOLDPWD=/tmp\nsecret: kubernetes.io/service-account-token\n\
         bypass=true\ncompass: north-north-west\npassword: Please enter your password\n",
    );
    assert_clean(
        "ssh public keys",
        &format!(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{} dev@laptop\nssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQ{} ci@build\n",
            b64(&r.bytes(32)).trim_end_matches('='),
            b64(&r.bytes(380))
        ),
    );
    assert_clean(
        "pem public key and certificate",
        &format!(
            "{}\n{}\n{}",
            pem(&mut r, "PUBLIC KEY", 294),
            pem(&mut r, "CERTIFICATE", 900),
            pem(&mut r, "RSA PUBLIC KEY", 270)
        ),
    );
    assert_clean(
        "jwt-shaped but no alg",
        &format!(
            "value: {}.{}.{}",
            b64url(br#"{"typ":"JWT","kid":"k1"}"#),
            b64url(br#"{"sub":"1"}"#),
            b64url(&r.bytes(32))
        ),
    );
    assert_clean(
        "publishable keys",
        &format!(
            "STRIPE_PUBLISHABLE_KEY=pk_live_{}\nMAPBOX_TOKEN=pk.eyJ{}.{}",
            r.string(B62, 99),
            r.string(B64URL, 60),
            r.string(B64URL, 22)
        ),
    );
    assert_clean(
        "hf identifier",
        "model = load(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)",
    );
    assert_clean(
        "discord-shaped, not an id",
        &format!(
            "discord: {}.{}.{}",
            r.string(B64URL, 24).replacen(|_| true, "M", 1),
            r.string(B64URL, 6),
            r.string(B64URL, 27)
        ),
    );
}

#[test]
fn earlier_rules_win_overlaps() {
    let mut r = Rng(99);
    // A GitHub token assigned to a password key: one finding, the token.
    let k = checksummed(&mut r, "ghp_");
    let text = format!("password = \"{k}\"");
    let found = scan(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].ty, "github_token");
    // A JWT in a bearer header: the JWT, not a generic bearer token.
    let jwt = format!(
        "{}.{}.{}",
        b64url(br#"{"alg":"ES256"}"#),
        b64url(br#"{"sub":"svc"}"#),
        b64url(&r.bytes(64))
    );
    let text = format!("Authorization: Bearer {jwt}");
    let found = scan(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].ty, "jwt");
    assert_eq!(&text[found[0].start..found[0].end], jwt);
    // A private key's body is one finding, whatever it happens to contain.
    let text = format!(
        "-----BEGIN PRIVATE KEY-----\nAKIA{}\n{}\n-----END PRIVATE KEY-----",
        r.string(BASE32, 16),
        r.string(B64, 64)
    );
    let found = scan(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].ty, "private_key");
}

#[test]
fn findings_are_in_order_and_do_not_overlap() {
    let text: String = samples()
        .iter()
        .map(|s| s.text.as_str())
        .collect::<Vec<_>>()
        .join("\n\n");
    let found = scan(&text);
    assert!(found.len() >= 100, "{}", found.len());
    for w in found.windows(2) {
        assert!(w[0].end <= w[1].start, "{:?} overlaps {:?}", w[0], w[1]);
    }
}

#[test]
fn non_ascii_text_is_fine() {
    let mut r = Rng(3);
    let k = format!("AKIA{}", r.string(BASE32, 16));
    let text = format!("clé d’accès : «{k}» — ünïcødé");
    let found = scan(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(&text[found[0].start..found[0].end], k);
}
