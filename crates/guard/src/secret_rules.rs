//! The credential rules, as data. Order is priority: private keys first (their
//! base64 bodies may contain anything), then vendor formats with a fixed prefix,
//! then JWTs, URLs and headers, then vendor keys recognised only by the name
//! they are assigned to, and generic assignments last.
//!
//! Sources, named per rule: gitleaks' default config (`gitleaks:`), GitHub secret
//! scanning's supported patterns (`github:`), TruffleHog's detectors
//! (`trufflehog:`), secretlint's rules (`secretlint:`) and vendors' own token
//! format documentation (`vendor:`).
//!
//! Conventions: patterns anchor with `B` (an ASCII word boundary, or a JSON `\n`,
//! `\r` or `\t` escape right before the token) and end at a character the token
//! cannot contain. Classes are ASCII (`[A-Za-z0-9_]`, never `\w`) so that the
//! lazy DFA never meets a Unicode word boundary. A group named `s` is the secret.

use crate::secret_checks as checks;

/// One credential format.
pub(crate) struct Rule {
    /// Stable snake_case type id (several rules may share one).
    pub id: &'static str,
    /// Literals (matched ASCII-case-insensitively); the regex runs only when one occurs.
    pub keywords: &'static [&'static str],
    /// `regex` crate syntax. A capture group named `s` is the secret; otherwise the whole match.
    pub pattern: &'static str,
    /// The format's own check on the secret's text.
    pub check: Check,
    /// How sure a match of this rule is (0.0–1.0).
    pub score: f32,
}

#[allow(dead_code)]
pub(crate) enum Check {
    None,
    /// Minimum Shannon entropy, bits per byte.
    Entropy(f32),
    Fn(fn(&str) -> bool),
}

/// Start of a token: an ASCII word boundary, or a JSON escape (`\n`, `\r`, `\t`)
/// right before it (in escaped text the `n` of `\n` would hide the boundary).
macro_rules! b {
    () => {
        r"(?:\\[nrt]|(?-u:\b))"
    };
}

/// End of a token whose alphabet includes `-` and `_`: any other character, or
/// the end of the text.
macro_rules! e {
    () => {
        r"(?:[^0-9A-Za-z_-]|$)"
    };
}

/// End of a standard-base64 token.
macro_rules! e64 {
    () => {
        r"(?:[^0-9A-Za-z+/=]|$)"
    };
}

/// The rest of a key name and an assignment (`=`, `:`, `:=`, `=>`, `?=`), the
/// key optionally quoted (JSON, also JSON inside a JSON string) and the value
/// optionally opened by a quote: `DD_API_KEY="`, `"okta_token": "`, `key => '`.
macro_rules! kv {
    () => {
        r#"[A-Za-z0-9_.-]{0,30}?\\?["']?[ \t]*(?:=|:=|:|=>|\?=)[ \t]*\\?["'`]?"#
    };
}

/// A key whose value is a password or another secret (case-insensitive), for the
/// generic `password_assignment` rules: `password`, `DB_PASSWORD`, `dbPassword`,
/// `passphrase`, `secret`, `client_secret`, `SECRET_KEY_BASE`, `api_key`, `apiKey`,
/// `x-api-key`, `private_key`, `access_token`, `auth_token`, `_authToken`,
/// `refresh_token`; `pass` and `pwd` only as a whole word or after a `_.-`
/// separator (not `bypass`, not `compass`).
macro_rules! secret_key {
    () => {
        r"(?i:(?-u:\b)(?:[A-Za-z0-9_.-]*?(?:passw(?:or)?d|passphrase|secret|(?:api|secret|private|encryption|signing|master|access)[_.-]?key|(?:access|auth|refresh|api|bearer|session|secret|private)[_.-]?token)(?:[_.-]?(?:base|value|b64|hex))?|(?:[A-Za-z0-9_.-]*[_.-])?(?:pass|pwd)))"
    };
}

/// The assignment after a [`secret_key`]: `=`, `:`, `:=`, `=>`, `?=`, the key
/// optionally closed by a quote (possibly escaped).
macro_rules! assign {
    () => {
        r#"\\?["']?[ \t]*(?:=|:=|:|=>|\?=)[ \t]*"#
    };
}

/// A UUID (lower- or uppercase hex).
macro_rules! uuid {
    () => {
        r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    };
}

pub(crate) static RULES: &[Rule] = &[
    // ---------------------------------------------------------------- private keys
    // gitleaks: private-key (the PGP armour); secretlint: preset-recommend/privatekey
    Rule {
        id: "pgp_private_key",
        keywords: &["-----begin pgp private"],
        pattern: r"-----BEGIN PGP PRIVATE KEY BLOCK-----[\s\S]{16,}?-----END PGP PRIVATE KEY BLOCK-----",
        check: Check::None,
        score: 1.0,
    },
    // gitleaks: private-key (PEM: RSA, EC, DSA, OPENSSH, ENCRYPTED, PKCS#8)
    Rule {
        id: "private_key",
        keywords: &["-----begin"],
        pattern: r"-----BEGIN[ A-Z0-9]{0,20}PRIVATE KEY(?: BLOCK)?-----[\s\S]{16,}?-----END[ A-Z0-9]{0,20}PRIVATE KEY(?: BLOCK)?-----",
        check: Check::None,
        score: 1.0,
    },
    // trufflehog: privatekey (PuTTY .ppk, versions 2 and 3)
    Rule {
        id: "putty_private_key",
        keywords: &["putty-user-key-file-"],
        pattern: r"PuTTY-User-Key-File-[23]:[\s\S]{16,8000}?Private-MAC:[ \t]*[0-9a-fA-F]{40,64}",
        check: Check::None,
        score: 1.0,
    },
    // ---------------------------------------------------------------- cloud providers
    // gitleaks: aws-access-token; github: aws_access_key_id
    Rule {
        id: "aws_access_key_id",
        // The identifier prefixes gitleaks lists (users, groups, roles, policies,
        // keys); the 16 characters as gitleaks matches them.
        keywords: &[
            "akia", "asia", "abia", "acca", "a3t", "agpa", "aida", "aroa", "aipa", "anpa", "anva",
            "apka",
        ],
        pattern: concat!(
            b!(),
            r"(?P<s>(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16})(?-u:\b)"
        ),
        check: Check::Fn(checks::aws_key_id),
        score: 0.95,
    },
    // github: aws_session_token (STS tokens open with the same serialised header)
    Rule {
        id: "aws_session_token",
        keywords: &["iqojb3jpz2lux2vj", "fwogzxivyxdze", "fqogzxivyxdze"],
        pattern: concat!(
            b!(),
            r"(?P<s>(?:IQoJb3JpZ2luX2Vj|FwoGZXIvYXdzE|FQoGZXIvYXdzE)[A-Za-z0-9/+]{100,4000}={0,2})",
            e64!()
        ),
        check: Check::Entropy(4.5),
        score: 0.95,
    },
    // gitleaks (legacy): aws-mws-key; github: amazon_mws_auth_token
    Rule {
        id: "aws_mws_auth_token",
        keywords: &["amzn.mws."],
        pattern: concat!(
            b!(),
            r"(?P<s>amzn\.mws\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?-u:\b)"
        ),
        check: Check::None,
        score: 0.95,
    },
    // github: google_cloud_private_key_id (a service-account key file)
    Rule {
        id: "gcp_service_account",
        keywords: &["service_account"],
        pattern: r#""type"[ \t\r\n]*:[ \t\r\n]*"service_account"[\s\S]{0,400}?"private_key_id"[ \t\r\n]*:[ \t\r\n]*"(?P<s>[0-9a-f]{40})""#,
        check: Check::None,
        score: 0.95,
    },
    // gitleaks: gcp-api-key; github: google_api_key
    Rule {
        id: "gcp_api_key",
        keywords: &["aiza"],
        pattern: concat!(b!(), r"(?P<s>AIza[0-9A-Za-z_-]{35})", e!()),
        check: Check::Entropy(4.0),
        score: 0.9,
    },
    // github: google_oauth_client_secret
    Rule {
        id: "google_oauth_client_secret",
        keywords: &["gocspx-"],
        pattern: concat!(b!(), r"(?P<s>GOCSPX-[0-9A-Za-z_-]{28})", e!()),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // github: google_oauth_access_token; trufflehog: googleoauth2
    Rule {
        id: "google_oauth_access_token",
        keywords: &["ya29."],
        pattern: concat!(b!(), r"(?P<s>ya29\.[0-9A-Za-z_-]{30,2048})", e!()),
        check: Check::Entropy(4.0),
        score: 0.9,
    },
    // github: azure_storage_account_key (in a connection string)
    Rule {
        id: "azure_storage_key",
        keywords: &["accountkey="],
        pattern: r"(?i:AccountKey)=(?P<s>[A-Za-z0-9+/]{86}==)",
        check: Check::Entropy(4.5),
        score: 0.95,
    },
    // github: azure_service_bus / azure_event_hub / azure_iot connection strings
    Rule {
        id: "azure_shared_access_key",
        keywords: &["sharedaccesskey="],
        pattern: concat!(r"(?i:SharedAccessKey)=(?P<s>[A-Za-z0-9+/]{43}=)", e64!()),
        check: Check::Entropy(4.0),
        score: 0.9,
    },
    // github: azure_sas_token (the signature of a SAS URL or token; `sv=` first)
    Rule {
        id: "azure_sas_token",
        keywords: &["sig="],
        pattern: r#"(?:^|[?&;= \t\r\n"'])sv=[0-9]{4}-[0-9]{2}-[0-9]{2}(?:&[A-Za-z]+=[^&# \t\r\n"'<>]*)*&sig=(?P<s>[A-Za-z0-9%+/=]{40,128})"#,
        check: Check::Entropy(4.0),
        score: 0.9,
    },
    // gitleaks: azure-ad-client-secret; github: azure_active_directory_application_secret
    Rule {
        id: "azure_ad_client_secret",
        keywords: &["q~"],
        pattern: r#"(?:^|[\\'"`\s>=:(,)])(?P<s>[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34})(?:$|[\\'"`\s<),])"#,
        check: Check::Fn(checks::token),
        score: 0.9,
    },
    // gitleaks: alibaba-access-key-id; github: alibaba_cloud_access_key_id
    Rule {
        id: "alibaba_access_key_id",
        keywords: &["ltai"],
        pattern: concat!(b!(), r"(?P<s>LTAI[A-Za-z0-9]{20})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.85,
    },
    // trufflehog: tencent; github: tencent_cloud_secret_id
    Rule {
        id: "tencent_secret_id",
        keywords: &["akid"],
        pattern: concat!(b!(), r"(?P<s>AKID[A-Za-z0-9]{32})(?-u:\b)"),
        check: Check::Entropy(3.5),
        score: 0.85,
    },
    // gitleaks: digitalocean-pat, digitalocean-access-token
    Rule {
        id: "digitalocean_token",
        keywords: &["dop_v1_", "doo_v1_"],
        pattern: concat!(b!(), r"(?P<s>do[op]_v1_[a-f0-9]{64})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // gitleaks: digitalocean-refresh-token
    Rule {
        id: "digitalocean_refresh_token",
        keywords: &["dor_v1_"],
        pattern: concat!(b!(), r"(?P<s>dor_v1_[a-f0-9]{64})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // gitleaks: heroku-api-key-v2
    Rule {
        id: "heroku_api_key",
        keywords: &["hrku-aa"],
        pattern: concat!(b!(), r"(?P<s>HRKU-AA[0-9A-Za-z_-]{58})", e!()),
        check: Check::Entropy(4.0),
        score: 0.95,
    },
    // gitleaks: databricks-api-token
    Rule {
        id: "databricks_token",
        keywords: &["dapi"],
        pattern: concat!(b!(), r"(?P<s>dapi[a-f0-9]{32}(?:-[0-9])?)", e!()),
        check: Check::Fn(checks::token),
        score: 0.9,
    },
    // gitleaks: cloudflare-origin-ca-key
    Rule {
        id: "cloudflare_origin_ca_key",
        keywords: &["v1.0-"],
        pattern: concat!(b!(), r"(?P<s>v1\.0-[a-f0-9]{24}-[a-f0-9]{146})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.9,
    },
    // ---------------------------------------------------------------- code hosting, CI, registries
    // gitleaks: github-pat, github-oauth, github-app-token, github-refresh-token;
    // github: github_personal_access_token etc. The last six characters are the
    // base62 CRC-32 of the thirty before them (checked).
    Rule {
        id: "github_token",
        keywords: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        pattern: concat!(b!(), r"(?P<s>gh[pousr]_[0-9A-Za-z]{36})(?-u:\b)"),
        check: Check::Fn(checks::github_token),
        score: 0.99,
    },
    // gitleaks: github-fine-grained-pat
    Rule {
        id: "github_fine_grained_pat",
        keywords: &["github_pat_"],
        pattern: concat!(
            b!(),
            r"(?P<s>github_pat_[0-9A-Za-z]{22}_[0-9A-Za-z]{59})(?-u:\b)"
        ),
        check: Check::Entropy(4.0),
        score: 0.99,
    },
    // gitleaks: gitlab-pat, gitlab-pat-routable, gitlab-deploy-token,
    // gitlab-runner-authentication-token(-routable), gitlab-cicd-job-token,
    // gitlab-incoming-mail-token, gitlab-scim-token, gitlab-feature-flag-client-token,
    // gitlab-feed-token, gitlab-kubernetes-agent-token, gitlab-oauth-app-secret
    Rule {
        id: "gitlab_token",
        keywords: &[
            "glpat-", "gldt-", "glrt-", "glcbt-", "glimt-", "glsoat-", "glffct-", "glft-",
            "glagent-", "gloas-",
        ],
        pattern: concat!(
            b!(),
            r"(?P<s>(?:glpat|gldt|glrt|glcbt|glimt|glsoat|glffct|glft|glagent|gloas)-[0-9A-Za-z_-]{20,300}(?:\.[0-9a-z]{9})?)",
            e!()
        ),
        check: Check::Entropy(3.5),
        score: 0.95,
    },
    // gitleaks: gitlab-ptt, gitlab-rrt
    Rule {
        id: "gitlab_token",
        keywords: &["glptt-", "gr1348941"],
        pattern: concat!(
            b!(),
            r"(?P<s>glptt-[0-9a-f]{40}|GR1348941[0-9A-Za-z_-]{20})",
            e!()
        ),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // trufflehog: bitbucketapppassword (Atlassian app passwords)
    Rule {
        id: "bitbucket_app_password",
        keywords: &["atbb"],
        pattern: concat!(
            b!(),
            r"(?P<s>ATBB[A-Za-z0-9_=.-]{28,60}[A-Za-z0-9])(?:[^0-9A-Za-z_=.-]|$)"
        ),
        check: Check::Entropy(4.0),
        score: 0.9,
    },
    // gitleaks: atlassian-api-token
    Rule {
        id: "atlassian_api_token",
        keywords: &["atatt3"],
        pattern: concat!(
            b!(),
            r"(?P<s>ATATT3[A-Za-z0-9_=-]{186})(?:[^0-9A-Za-z_=-]|$)"
        ),
        check: Check::Entropy(4.0),
        score: 0.95,
    },
    // gitleaks: npm-access-token; github: npm_access_token (same checksum as GitHub's)
    Rule {
        id: "npm_token",
        keywords: &["npm_"],
        pattern: concat!(b!(), r"(?P<s>npm_[0-9A-Za-z]{36})(?-u:\b)"),
        check: Check::Fn(checks::npm_token),
        score: 0.99,
    },
    // gitleaks: pypi-upload-token (pypi.org and test.pypi.org macaroons)
    Rule {
        id: "pypi_token",
        keywords: &["pypi-ageichlwas5vcmc", "pypi-agendgvzdc5wexbplm9yzw"],
        pattern: concat!(
            b!(),
            r"(?P<s>pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[0-9A-Za-z_-]{50,1000})",
            e!()
        ),
        check: Check::Entropy(4.0),
        score: 0.99,
    },
    // gitleaks: rubygems-api-token
    Rule {
        id: "rubygems_api_key",
        keywords: &["rubygems_"],
        pattern: concat!(b!(), r"(?P<s>rubygems_[a-f0-9]{48})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // trufflehog: nugetapikey; github: nuget_api_key
    Rule {
        id: "nuget_api_key",
        keywords: &["oy2"],
        pattern: concat!(b!(), r"(?P<s>oy2[a-z0-9]{43})(?-u:\b)"),
        check: Check::Entropy(3.5),
        score: 0.85,
    },
    // gitleaks: clojars-api-token
    Rule {
        id: "clojars_token",
        keywords: &["clojars_"],
        pattern: concat!(b!(), r"(?P<s>CLOJARS_[a-z0-9]{60})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // github: docker_personal_access_token; trufflehog: dockerhub
    Rule {
        id: "docker_hub_token",
        keywords: &["dckr_pat_", "dckr_oat_"],
        pattern: concat!(b!(), r"(?P<s>dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,32})", e!()),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // gitleaks: artifactory-api-key
    Rule {
        id: "artifactory_api_key",
        keywords: &["akcp"],
        pattern: concat!(b!(), r"(?P<s>AKCp[A-Za-z0-9]{69})(?-u:\b)"),
        check: Check::Entropy(4.5),
        score: 0.9,
    },
    // gitleaks: artifactory-reference-token
    Rule {
        id: "artifactory_reference_token",
        keywords: &["cmvmd"],
        pattern: concat!(b!(), r"(?P<s>cmVmd[A-Za-z0-9]{59})(?-u:\b)"),
        check: Check::Entropy(4.5),
        score: 0.85,
    },
    // github: sonarqube tokens (squ_ user, sqp_ project, sqa_ global analysis)
    Rule {
        id: "sonarqube_token",
        keywords: &["squ_", "sqp_", "sqa_"],
        pattern: concat!(b!(), r"(?P<s>sq[pua]_[a-f0-9]{40})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.9,
    },
    // gitleaks: octopus-deploy-api-key
    Rule {
        id: "octopus_deploy_api_key",
        keywords: &["api-"],
        pattern: concat!(b!(), r"(?P<s>API-[A-Z0-9]{26})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.8,
    },
    // gitleaks: pulumi-api-token
    Rule {
        id: "pulumi_token",
        keywords: &["pul-"],
        pattern: concat!(b!(), r"(?P<s>pul-[a-f0-9]{40})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // gitleaks: hashicorp-tf-api-token
    Rule {
        id: "terraform_cloud_token",
        keywords: &["atlasv1"],
        pattern: concat!(
            b!(),
            r"(?P<s>[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70})(?:[^0-9A-Za-z_=-]|$)"
        ),
        check: Check::Entropy(3.5),
        score: 0.95,
    },
    // gitleaks: vault-service-token, vault-batch-token (the hvs./hvb. formats;
    // the legacy `s.` + 24 is too short to tell from prose)
    Rule {
        id: "hashicorp_vault_token",
        keywords: &["hvs.", "hvb."],
        pattern: concat!(
            b!(),
            r"(?P<s>hvs\.[A-Za-z0-9_-]{90,120}|hvb\.[A-Za-z0-9_-]{138,300})",
            e!()
        ),
        check: Check::Entropy(4.0),
        score: 0.95,
    },
    // gitleaks: doppler-api-token; trufflehog: doppler (personal, CLI, service,
    // service-account, SCIM, audit tokens)
    Rule {
        id: "doppler_token",
        keywords: &[
            "dp.pt.",
            "dp.ct.",
            "dp.st.",
            "dp.sa.",
            "dp.scim.",
            "dp.audit.",
        ],
        pattern: concat!(
            b!(),
            r"(?P<s>dp\.(?:pt|ct|sa|scim|audit)\.[A-Za-z0-9]{40,44}|dp\.st\.(?:[a-z0-9_-]{2,35}\.)?[A-Za-z0-9]{40,44})(?-u:\b)"
        ),
        check: Check::Entropy(3.5),
        score: 0.95,
    },
    // gitleaks: postman-api-token
    Rule {
        id: "postman_api_key",
        keywords: &["pmak-"],
        pattern: concat!(b!(), r"(?P<s>PMAK-[a-f0-9]{24}-[a-f0-9]{34})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // gitleaks: harness-api-key
    Rule {
        id: "harness_api_key",
        keywords: &["pat.", "sat."],
        pattern: concat!(
            b!(),
            r"(?P<s>(?:pat|sat)\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20})(?-u:\b)"
        ),
        check: Check::Entropy(3.5),
        score: 0.9,
    },
    // gitleaks: openshift-user-token
    Rule {
        id: "openshift_user_token",
        keywords: &["sha256~"],
        pattern: concat!(b!(), r"(?P<s>sha256~[A-Za-z0-9_-]{43})", e!()),
        check: Check::Entropy(3.5),
        score: 0.9,
    },
    // gitleaks: infracost-api-token
    Rule {
        id: "infracost_api_key",
        keywords: &["ico-"],
        pattern: concat!(b!(), r"(?P<s>ico-[A-Za-z0-9]{32})(?-u:\b)"),
        check: Check::Entropy(3.5),
        score: 0.85,
    },
    // gitleaks: prefect-api-token
    Rule {
        id: "prefect_api_key",
        keywords: &["pnu_"],
        pattern: concat!(b!(), r"(?P<s>pnu_[A-Za-z0-9]{36})(?-u:\b)"),
        check: Check::Entropy(3.5),
        score: 0.9,
    },
    // gitleaks: readme-api-token
    Rule {
        id: "readme_api_key",
        keywords: &["rdme_"],
        pattern: concat!(b!(), r"(?P<s>rdme_[a-z0-9]{70})(?-u:\b)"),
        check: Check::Entropy(3.5),
        score: 0.9,
    },
    // gitleaks: scalingo-api-token
    Rule {
        id: "scalingo_api_token",
        keywords: &["tk-us-"],
        pattern: concat!(b!(), r"(?P<s>tk-us-[A-Za-z0-9_-]{48})", e!()),
        check: Check::Entropy(3.5),
        score: 0.9,
    },
    // gitleaks: flyio-access-token
    Rule {
        id: "flyio_token",
        keywords: &["fo1_", "fm1a_", "fm1r_", "fm2_"],
        pattern: concat!(
            b!(),
            r"(?P<s>fo1_[A-Za-z0-9_-]{43}|fm1[ar]_[A-Za-z0-9+/]{100,}={0,3}|fm2_[A-Za-z0-9+/]{100,}={0,3})(?:[^0-9A-Za-z_+/=-]|$)"
        ),
        check: Check::Entropy(4.0),
        score: 0.95,
    },
    // gitleaks: planetscale-api-token, planetscale-oauth-token
    Rule {
        id: "planetscale_token",
        keywords: &["pscale_tkn_", "pscale_oauth_"],
        pattern: concat!(
            b!(),
            r"(?P<s>pscale_(?:tkn|oauth)_[A-Za-z0-9_=.-]{31,63}[A-Za-z0-9_=-])(?:[^0-9A-Za-z_=.-]|$)"
        ),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // gitleaks: planetscale-password
    Rule {
        id: "planetscale_password",
        keywords: &["pscale_pw_"],
        pattern: concat!(
            b!(),
            r"(?P<s>pscale_pw_[A-Za-z0-9_=.-]{31,63}[A-Za-z0-9_=-])(?:[^0-9A-Za-z_=.-]|$)"
        ),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // github: supabase_personal_access_token, supabase_secret_key
    Rule {
        id: "supabase_token",
        keywords: &["sbp_", "sb_secret_"],
        pattern: concat!(
            b!(),
            r"(?P<s>sbp_[a-f0-9]{40}|sb_secret_[A-Za-z0-9_-]{20,64})",
            e!()
        ),
        check: Check::Fn(checks::token),
        score: 0.9,
    },
    // github: netlify_personal_access_token (nfp_ prefix)
    Rule {
        id: "netlify_token",
        keywords: &["nfp_"],
        pattern: concat!(b!(), r"(?P<s>nfp_[A-Za-z0-9]{36})(?-u:\b)"),
        check: Check::Entropy(3.5),
        score: 0.9,
    },
    // gitleaks: age-secret-key
    Rule {
        id: "age_secret_key",
        keywords: &["age-secret-key-1"],
        pattern: concat!(
            b!(),
            r"(?P<s>AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})(?-u:\b)"
        ),
        check: Check::None,
        score: 1.0,
    },
    // gitleaks: 1password-service-account-token
    Rule {
        id: "onepassword_service_account_token",
        keywords: &["ops_eyj"],
        pattern: concat!(b!(), r"(?P<s>ops_eyJ[A-Za-z0-9+/]{250,}={0,3})", e64!()),
        check: Check::Entropy(4.0),
        score: 0.95,
    },
    // gitleaks: 1password-secret-key
    Rule {
        id: "onepassword_secret_key",
        keywords: &["a3-"],
        pattern: concat!(
            b!(),
            r"(?P<s>A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5})(?-u:\b)"
        ),
        check: Check::Entropy(3.8),
        score: 0.9,
    },
    // ---------------------------------------------------------------- messaging and webhooks
    // gitleaks: slack-bot-token, slack-user-token, slack-legacy-*, slack-config-*
    Rule {
        id: "slack_token",
        keywords: &[
            "xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxo-", "xoxs-", "xoxe-", "xoxe.",
        ],
        pattern: concat!(
            b!(),
            r"(?P<s>xox[abposre]-[0-9]{1,16}(?:-[0-9]{1,16}){1,3}-[A-Za-z0-9]{8,64}|xoxb-[0-9]{8,14}-[A-Za-z0-9]{18,26}|xox[ar]-(?:[0-9]-)?[A-Za-z0-9]{8,48}|xoxe\.xox[bp]-[0-9]-[A-Za-z0-9]{163,166}|xoxe-[0-9]-[A-Za-z0-9]{146})(?-u:\b)"
        ),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // gitleaks: slack-app-token
    Rule {
        id: "slack_app_token",
        keywords: &["xapp-"],
        pattern: concat!(
            b!(),
            r"(?P<s>xapp-[0-9]-[A-Z0-9]{8,14}-[0-9]{8,16}-[a-z0-9]{32,80})(?-u:\b)"
        ),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // gitleaks: slack-webhook-url; github: slack_incoming_webhook_url, slack_workflow_webhook_url
    Rule {
        id: "slack_webhook",
        keywords: &["hooks.slack.com"],
        pattern: r"(?P<s>https?://hooks\.slack\.com/(?:services/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,14}/[A-Za-z0-9]{24}|(?:workflows|triggers)/T[A-Z0-9]{6,12}/A[A-Z0-9]{6,14}/[0-9]{8,20}/[A-Za-z0-9]{32}))(?-u:\b)",
        check: Check::None,
        score: 0.95,
    },
    // trufflehog: discordbottoken (first segment: the bot's id, checked)
    Rule {
        id: "discord_bot_token",
        keywords: &["discord"],
        pattern: concat!(
            b!(),
            r"(?P<s>[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38})",
            e!()
        ),
        check: Check::Fn(checks::discord_bot_token),
        score: 0.9,
    },
    // trufflehog: discordwebhook; github: discord_webhook (not yet)
    Rule {
        id: "discord_webhook",
        keywords: &["discord"],
        pattern: concat!(
            r"(?P<s>https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/api/(?:v[0-9]{1,2}/)?webhooks/[0-9]{17,20}/[A-Za-z0-9_-]{60,68})",
            e!()
        ),
        check: Check::None,
        score: 0.95,
    },
    // gitleaks: microsoft-teams-webhook
    Rule {
        id: "microsoft_teams_webhook",
        keywords: &["webhook.office.com"],
        pattern: concat!(
            r"(?P<s>https://[a-z0-9-]+\.webhook\.office\.com/webhookb2/",
            uuid!(),
            "@",
            uuid!(),
            r"/IncomingWebhook/[a-z0-9]{32}/",
            uuid!(),
            r")(?-u:\b)"
        ),
        check: Check::None,
        score: 0.95,
    },
    // gitleaks: telegram-bot-api-token; trufflehog: telegrambottoken
    Rule {
        id: "telegram_bot_token",
        keywords: &[":aa"],
        pattern: concat!(
            r"(?:^|[^0-9A-Za-z_]|bot)(?P<s>[0-9]{8,10}:AA[0-9A-Za-z_-]{33})",
            e!()
        ),
        check: Check::Fn(checks::token),
        score: 0.9,
    },
    // gitleaks: twilio-api-key
    Rule {
        id: "twilio_api_key",
        keywords: &["sk"],
        pattern: concat!(b!(), r"(?P<s>SK[0-9a-f]{32})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.8,
    },
    // gitleaks: sendgrid-api-token; github: sendgrid_api_key
    Rule {
        id: "sendgrid_api_key",
        keywords: &["sg."],
        pattern: concat!(
            b!(),
            r"(?P<s>SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})",
            e!()
        ),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // gitleaks: sendinblue-api-token (Brevo)
    Rule {
        id: "sendinblue_api_key",
        keywords: &["xkeysib-"],
        pattern: concat!(b!(), r"(?P<s>xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // gitleaks: mailchimp-api-key; github: mailchimp_api_key
    Rule {
        id: "mailchimp_api_key",
        keywords: &["-us"],
        pattern: concat!(b!(), r"(?P<s>[0-9a-f]{32}-us[0-9]{1,2})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.9,
    },
    // gitleaks: mailgun-private-api-token, mailgun-signing-key (only where the
    // text names Mailgun: `key-` + 32 hex alone is too common a shape)
    Rule {
        id: "mailgun_api_key",
        keywords: &["mailgun"],
        pattern: concat!(
            b!(),
            r"(?P<s>key-[a-f0-9]{32}|[a-f0-9]{32}-[a-f0-9]{8}-[a-f0-9]{8})(?-u:\b)"
        ),
        check: Check::Fn(checks::token),
        score: 0.85,
    },
    // ---------------------------------------------------------------- payments and commerce
    // gitleaks: stripe-access-token; github: stripe_api_key, stripe_test_secret_key
    // (secret and restricted keys; publishable `pk_` keys are public)
    Rule {
        id: "stripe_secret_key",
        keywords: &[
            "sk_live_", "sk_test_", "sk_prod_", "rk_live_", "rk_test_", "rk_prod_",
        ],
        pattern: concat!(
            b!(),
            r"(?P<s>(?:sk|rk)_(?:live|test|prod)_[0-9A-Za-z]{10,247})(?-u:\b)"
        ),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // github: stripe_webhook_signing_secret
    Rule {
        id: "stripe_webhook_secret",
        keywords: &["whsec_"],
        pattern: concat!(b!(), r"(?P<s>whsec_[A-Za-z0-9+/]{32,88}={0,2})", e64!()),
        check: Check::Fn(checks::token),
        score: 0.9,
    },
    // gitleaks: square-access-token; github: square_access_token, square_production_application_secret
    Rule {
        id: "square_access_token",
        keywords: &["eaaa", "sq0atp-"],
        pattern: concat!(
            b!(),
            r"(?P<s>EAAA[A-Za-z0-9_-]{60}|sq0atp-[A-Za-z0-9_-]{22})",
            e!()
        ),
        check: Check::Fn(checks::token),
        score: 0.9,
    },
    // gitleaks (legacy): square-oauth-secret
    Rule {
        id: "square_oauth_secret",
        keywords: &["sq0csp-"],
        pattern: concat!(b!(), r"(?P<s>sq0csp-[A-Za-z0-9_-]{43})", e!()),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // github: paypal_braintree_access_token
    Rule {
        id: "braintree_access_token",
        keywords: &["access_token$"],
        pattern: concat!(
            b!(),
            r"(?P<s>access_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32})(?-u:\b)"
        ),
        check: Check::None,
        score: 0.99,
    },
    // gitleaks: shopify-access-token, shopify-custom-access-token, shopify-private-app-access-token
    Rule {
        id: "shopify_access_token",
        keywords: &["shpat_", "shpca_", "shppa_"],
        pattern: concat!(b!(), r"(?P<s>shp(?:at|ca|pa)_[a-fA-F0-9]{32})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // gitleaks: shopify-shared-secret
    Rule {
        id: "shopify_shared_secret",
        keywords: &["shpss_"],
        pattern: concat!(b!(), r"(?P<s>shpss_[a-fA-F0-9]{32})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // gitleaks: shippo-api-token
    Rule {
        id: "shippo_api_token",
        keywords: &["shippo_"],
        pattern: concat!(b!(), r"(?P<s>shippo_(?:live|test)_[a-fA-F0-9]{40})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // gitleaks: easypost-api-token, easypost-test-api-token
    Rule {
        id: "easypost_api_key",
        keywords: &["ezak", "eztk"],
        pattern: concat!(b!(), r"(?P<s>EZ[AT]K[A-Za-z0-9]{54})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.9,
    },
    // gitleaks: duffel-api-token
    Rule {
        id: "duffel_api_token",
        keywords: &["duffel_"],
        pattern: concat!(
            b!(),
            r"(?P<s>duffel_(?:test|live)_[A-Za-z0-9_=-]{43})(?:[^0-9A-Za-z_=-]|$)"
        ),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // gitleaks: plaid-api-token (the access token's own prefix suffices)
    Rule {
        id: "plaid_access_token",
        keywords: &[
            "access-sandbox-",
            "access-development-",
            "access-production-",
        ],
        pattern: concat!(
            b!(),
            r"(?P<s>access-(?:sandbox|development|production)-",
            uuid!(),
            r")(?-u:\b)"
        ),
        check: Check::Fn(checks::token),
        score: 0.9,
    },
    // gitleaks: flutterwave-secret-key, flutterwave-encryption-key
    Rule {
        id: "flutterwave_secret_key",
        keywords: &["flwseck"],
        pattern: concat!(b!(), r"(?P<s>FLWSECK(?:_TEST)?-[a-h0-9]{32}-X)(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // ---------------------------------------------------------------- AI providers
    // gitleaks: openai-api-key; github: openai_api_key (project, service-account,
    // admin and legacy user keys; the `T3BlbkFJ` marker is base64 of "OpenAI")
    Rule {
        id: "openai_api_key",
        keywords: &["t3blbkfj", "sk-proj-", "sk-svcacct-", "sk-admin-"],
        pattern: concat!(
            b!(),
            r"(?P<s>sk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_-]{20,200}T3BlbkFJ[A-Za-z0-9_-]{20,200}|sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,250})",
            e!()
        ),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // gitleaks: anthropic-api-key; github: anthropic_api_key
    Rule {
        id: "anthropic_api_key",
        keywords: &["sk-ant-api03"],
        pattern: concat!(b!(), r"(?P<s>sk-ant-api03-[A-Za-z0-9_-]{93}AA)", e!()),
        check: Check::Fn(checks::token),
        score: 0.99,
    },
    // gitleaks: anthropic-admin-api-key; github: anthropic_admin_api_key
    Rule {
        id: "anthropic_admin_key",
        keywords: &["sk-ant-admin01"],
        pattern: concat!(b!(), r"(?P<s>sk-ant-admin01-[A-Za-z0-9_-]{93}AA)", e!()),
        check: Check::Fn(checks::token),
        score: 0.99,
    },
    // gitleaks: huggingface-access-token, huggingface-organization-api-token
    Rule {
        id: "huggingface_token",
        keywords: &["hf_", "api_org_"],
        pattern: concat!(b!(), r"(?P<s>hf_[A-Za-z]{34}|api_org_[A-Za-z]{34})(?-u:\b)"),
        check: Check::Fn(checks::huggingface),
        score: 0.9,
    },
    // github: groq_api_key; trufflehog: groq
    Rule {
        id: "groq_api_key",
        keywords: &["gsk_"],
        pattern: concat!(b!(), r"(?P<s>gsk_[A-Za-z0-9]{52})(?-u:\b)"),
        check: Check::Entropy(4.0),
        score: 0.95,
    },
    // github: replicate_api_token; trufflehog: replicate
    Rule {
        id: "replicate_api_token",
        keywords: &["r8_"],
        pattern: concat!(b!(), r"(?P<s>r8_[A-Za-z0-9]{37})(?-u:\b)"),
        check: Check::Entropy(3.5),
        score: 0.9,
    },
    // gitleaks: perplexity-api-key
    Rule {
        id: "perplexity_api_key",
        keywords: &["pplx-"],
        pattern: concat!(b!(), r"(?P<s>pplx-[A-Za-z0-9]{48})(?-u:\b)"),
        check: Check::Entropy(4.0),
        score: 0.95,
    },
    // github: xai_api_key; trufflehog: xai
    Rule {
        id: "xai_api_key",
        keywords: &["xai-"],
        pattern: concat!(b!(), r"(?P<s>xai-[A-Za-z0-9]{80})(?-u:\b)"),
        check: Check::Entropy(4.0),
        score: 0.95,
    },
    // trufflehog: openrouter
    Rule {
        id: "openrouter_api_key",
        keywords: &["sk-or-v1-"],
        pattern: concat!(b!(), r"(?P<s>sk-or-v1-[a-f0-9]{64})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // trufflehog: langsmith (personal and service keys)
    Rule {
        id: "langsmith_api_key",
        keywords: &["lsv2_pt_", "lsv2_sk_"],
        pattern: concat!(
            b!(),
            r"(?P<s>lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10})(?-u:\b)"
        ),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // ---------------------------------------------------------------- SaaS and developer tools
    // gitleaks: linear-api-key
    Rule {
        id: "linear_api_key",
        keywords: &["lin_api_"],
        pattern: concat!(b!(), r"(?P<s>lin_api_[A-Za-z0-9]{40})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // gitleaks: notion-api-token (ntn_); trufflehog: notion (legacy secret_ + 43)
    Rule {
        id: "notion_token",
        keywords: &["ntn_", "secret_"],
        pattern: concat!(
            b!(),
            r"(?P<s>ntn_[0-9]{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43})(?-u:\b)"
        ),
        check: Check::Entropy(4.0),
        score: 0.9,
    },
    // gitleaks: new-relic-user-api-key
    Rule {
        id: "new_relic_api_key",
        keywords: &["nrak-"],
        pattern: concat!(b!(), r"(?P<s>NRAK-[A-Z0-9]{27})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // gitleaks: new-relic-insert-key
    Rule {
        id: "new_relic_insert_key",
        keywords: &["nrii-"],
        pattern: concat!(b!(), r"(?P<s>NRII-[A-Za-z0-9_-]{32})", e!()),
        check: Check::Fn(checks::token),
        score: 0.9,
    },
    // gitleaks: sentry-org-token, sentry-user-token
    Rule {
        id: "sentry_auth_token",
        keywords: &["sntrys_", "sntryu_"],
        pattern: concat!(
            b!(),
            r"(?P<s>sntrys_eyJ[A-Za-z0-9+/]{20,400}={0,2}_[A-Za-z0-9+/]{43}|sntryu_[a-f0-9]{64})(?:[^0-9A-Za-z+/=_]|$)"
        ),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // trufflehog: sentry DSN (the key, or key:secret in legacy DSNs, before `@`)
    Rule {
        id: "sentry_dsn",
        keywords: &["sentry"],
        pattern: r"https?://(?P<s>[0-9a-f]{32}(?::[0-9a-f]{32})?)@[A-Za-z0-9.-]*sentry[A-Za-z0-9.-]*(?::[0-9]{1,5})?/[0-9]+",
        check: Check::Fn(checks::token),
        score: 0.6,
    },
    // gitleaks: grafana-cloud-api-token
    Rule {
        id: "grafana_cloud_token",
        keywords: &["glc_"],
        pattern: concat!(b!(), r"(?P<s>glc_[A-Za-z0-9+/]{32,400}={0,3})", e64!()),
        check: Check::Entropy(4.0),
        score: 0.95,
    },
    // gitleaks: grafana-service-account-token
    Rule {
        id: "grafana_service_account_token",
        keywords: &["glsa_"],
        pattern: concat!(b!(), r"(?P<s>glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // gitleaks: grafana-api-key (legacy: base64 of {"k":…,"n":…,"id":…})
    Rule {
        id: "grafana_api_key",
        keywords: &["eyjrijoi"],
        pattern: concat!(
            b!(),
            r"(?P<s>eyJrIjoi[A-Za-z0-9]{70,400}={0,3})(?:[^0-9A-Za-z+/=.]|$)"
        ),
        check: Check::Entropy(4.0),
        score: 0.9,
    },
    // gitleaks: dynatrace-api-token
    Rule {
        id: "dynatrace_api_token",
        keywords: &["dt0c01."],
        pattern: concat!(b!(), r"(?P<s>dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64})(?-u:\b)"),
        check: Check::Entropy(4.0),
        score: 0.95,
    },
    // github: mapbox_secret_access_token (`pk.` tokens are public)
    Rule {
        id: "mapbox_secret_token",
        keywords: &["sk.eyj"],
        pattern: concat!(
            b!(),
            r"(?P<s>sk\.eyJ[A-Za-z0-9_-]{40,200}\.[A-Za-z0-9_-]{20,30})",
            e!()
        ),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // gitleaks: dropbox-short-lived-api-token; github: dropbox_short_lived_access_token
    Rule {
        id: "dropbox_token",
        keywords: &["sl."],
        pattern: concat!(b!(), r"(?P<s>sl\.(?:u\.)?[A-Za-z0-9_-]{130,1500})", e!()),
        check: Check::Entropy(4.0),
        score: 0.9,
    },
    // github: airtable_personal_access_token
    Rule {
        id: "airtable_pat",
        keywords: &["pat"],
        pattern: concat!(b!(), r"(?P<s>pat[A-Za-z0-9]{14}\.[a-f0-9]{64})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // github: contentful_personal_access_token
    Rule {
        id: "contentful_pat",
        keywords: &["cfpat-"],
        pattern: concat!(b!(), r"(?P<s>CFPAT-[A-Za-z0-9_-]{43})", e!()),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // trufflehog: figmapersonalaccesstoken (v2); github: figma_pat
    Rule {
        id: "figma_token",
        keywords: &["figd_"],
        pattern: concat!(b!(), r"(?P<s>figd_[A-Za-z0-9_-]{40})", e!()),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // github: hubspot_private_app_api_key
    Rule {
        id: "hubspot_private_app_token",
        keywords: &["pat-na", "pat-eu"],
        pattern: concat!(b!(), r"(?P<s>pat-(?:na|eu)[0-9]-", uuid!(), r")(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.9,
    },
    // gitleaks: facebook-page-access-token; github: facebook_access_token
    Rule {
        id: "facebook_access_token",
        keywords: &["eaa"],
        pattern: concat!(b!(), r"(?P<s>EAA[A-Z][A-Za-z0-9]{100,})(?-u:\b)"),
        check: Check::Entropy(4.0),
        score: 0.85,
    },
    // gitleaks: twitter-bearer-token (app-only bearer tokens open with 22 `A`s)
    Rule {
        id: "twitter_bearer_token",
        keywords: &["aaaaaaaaaaaaaaaaaaaaaa"],
        pattern: concat!(
            b!(),
            r"(?P<s>A{22}[A-Za-z0-9%]{80,120})(?:[^0-9A-Za-z+/=%_-]|$)"
        ),
        check: Check::Fn(checks::twitter_bearer),
        score: 0.85,
    },
    // gitleaks: typeform-api-token
    Rule {
        id: "typeform_api_token",
        keywords: &["tfp_"],
        pattern: concat!(
            b!(),
            r"(?P<s>tfp_[A-Za-z0-9_.=-]{59})(?:[^0-9A-Za-z_.=-]|$)"
        ),
        check: Check::Fn(checks::token),
        score: 0.9,
    },
    // gitleaks: frameio-api-token
    Rule {
        id: "frameio_api_token",
        keywords: &["fio-u-"],
        pattern: concat!(
            b!(),
            r"(?P<s>fio-u-[A-Za-z0-9_=-]{64})(?:[^0-9A-Za-z_=-]|$)"
        ),
        check: Check::Fn(checks::token),
        score: 0.95,
    },
    // gitleaks: adobe-client-secret
    Rule {
        id: "adobe_client_secret",
        keywords: &["p8e-"],
        pattern: concat!(b!(), r"(?P<s>p8e-[A-Za-z0-9]{32})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.9,
    },
    // gitleaks: maxmind-license-key
    Rule {
        id: "maxmind_license_key",
        keywords: &["_mmk"],
        pattern: concat!(b!(), r"(?P<s>[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk)(?-u:\b)"),
        check: Check::Entropy(4.0),
        score: 0.9,
    },
    // ---------------------------------------------------------------- further public rule sets
    // Shapes from garak's apikey regexes (after the dora project) and gitleaks
    // that the vendor rules above do not take: after them, so an exact vendor
    // rule wins; each with its literal prefix.
    // garak: google_oauth_access_token; gitleaks: gcp-oauth-access-token
    Rule {
        id: "google_oauth_access_token",
        keywords: &["ya29."],
        pattern: concat!(b!(), r"(?P<s>ya29\.[0-9A-Za-z_-]{8,2000})", e!()),
        check: Check::Fn(checks::token),
        score: 0.85,
    },
    // garak: firebase_cloud_messaging; gitleaks: gcp-fcm-server-key (legacy FCM server key)
    Rule {
        id: "firebase_fcm_server_key",
        keywords: &["aaaa"],
        pattern: concat!(
            b!(),
            r"(?P<s>AAAA[A-Za-z0-9_-]{7}:[A-Za-z0-9_-]{60,200})",
            e!()
        ),
        check: Check::Fn(checks::token),
        score: 0.9,
    },
    // garak: cloudinary_basic_auth
    Rule {
        id: "cloudinary_url",
        keywords: &["cloudinary://"],
        pattern: r"cloudinary://[0-9]{6,20}:(?P<s>[A-Za-z0-9_\-.]{6,64})@[A-Za-z0-9_-]+",
        check: Check::None,
        score: 0.95,
    },
    // garak: stackhawk_api_key
    Rule {
        id: "stackhawk_api_key",
        keywords: &["hawk."],
        pattern: concat!(
            b!(),
            r"(?P<s>hawk\.[0-9A-Za-z_-]{20}\.[0-9A-Za-z_-]{20})",
            e!()
        ),
        check: Check::None,
        score: 0.9,
    },
    // garak: new_relic_* ; gitleaks: new-relic-user-api-key, -browser-api-token, -insert-key
    Rule {
        id: "new_relic_key",
        keywords: &[
            "nraa-", "nrak-", "nrii-", "nriq-", "nrjs-", "nrra-", "nrsp-",
        ],
        pattern: concat!(
            b!(),
            r"(?P<s>NR(?:AA|AK|II|IQ|JS|RA|SP)-[A-Za-z0-9_-]{19,48})",
            e!()
        ),
        check: Check::Fn(checks::token),
        score: 0.9,
    },
    // garak: bitly_secret_key
    Rule {
        id: "bitly_access_token",
        keywords: &["r_"],
        pattern: concat!(b!(), r"(?P<s>R_[0-9a-f]{32})(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.8,
    },
    // garak: dynatrace_token; gitleaks: dynatrace-api-token
    Rule {
        id: "dynatrace_api_token",
        keywords: &["dt0"],
        pattern: concat!(
            b!(),
            r"(?P<s>dt0[A-Za-z][0-9]{2}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64})",
            e!()
        ),
        check: Check::None,
        score: 0.95,
    },
    // garak: riot_games_api_key
    Rule {
        id: "riot_games_api_key",
        keywords: &["rgapi-"],
        pattern: concat!(
            b!(),
            r"(?P<s>RGAPI-[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})",
            e!()
        ),
        check: Check::None,
        score: 0.95,
    },
    // garak: zapier_webhook_url
    Rule {
        id: "zapier_webhook",
        keywords: &["hooks.zapier.com"],
        pattern: r"(?P<s>https://(?:www\.)?hooks\.zapier\.com/hooks/catch/[A-Za-z0-9]+/[A-Za-z0-9]+/?)",
        check: Check::None,
        score: 0.9,
    },
    // garak: facebook_access_token (the Graph API's user-token prefix)
    Rule {
        id: "facebook_access_token",
        keywords: &["eaacedeose0cba"],
        pattern: concat!(b!(), r"(?P<s>EAACEdEose0cBA[0-9A-Za-z]{8,})", e!()),
        check: Check::None,
        score: 0.95,
    },
    // garak: square_access_token (its `sq0…-` shapes, with O for 0 as it lists them)
    Rule {
        id: "square_access_token",
        keywords: &["sq0", "sqo"],
        pattern: concat!(b!(), r"(?P<s>sq[0O][a-z]{3}-[0-9A-Za-z_-]{22,43})", e!()),
        check: Check::Fn(checks::token),
        score: 0.85,
    },
    // garak: mailgun_api_key (`key-` + 32 alphanumerics, mixed case: not a hex id)
    Rule {
        id: "mailgun_api_key",
        keywords: &["key-"],
        pattern: concat!(b!(), r"(?P<s>key-[0-9A-Za-z]{32})(?-u:\b)"),
        check: Check::Fn(checks::mixed_token),
        score: 0.8,
    },
    // garak: slack_webhook / discord_webhook_url, shapes the stricter rules below miss
    Rule {
        id: "slack_webhook",
        keywords: &["hooks.slack.com"],
        pattern: r"(?P<s>https?://hooks\.slack\.com/services/T[A-Za-z0-9_]{4,16}/B[A-Za-z0-9_]{4,16}/[A-Za-z0-9_]{8,48})",
        check: Check::None,
        score: 0.9,
    },
    Rule {
        id: "discord_webhook",
        keywords: &["discord"],
        pattern: r"(?P<s>https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/api/(?:v[0-9]{1,2}/)?webhooks/[0-9]{5,30}/[A-Za-z0-9_-]{8,100})",
        check: Check::None,
        score: 0.9,
    },
    // ---------------------------------------------------------------- JWT
    // gitleaks: jwt (the header must decode to a JSON object naming its `alg`)
    Rule {
        id: "jwt",
        keywords: &["eyj"],
        pattern: concat!(
            b!(),
            r"(?P<s>eyJ[A-Za-z0-9_-]{12,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{16,}(?:\.[A-Za-z0-9_-]+){0,2})",
            e!()
        ),
        check: Check::Fn(checks::jwt),
        score: 0.9,
    },
    // ---------------------------------------------------------------- URLs and headers
    // gitleaks (legacy): generic connection strings; secretlint: database-connection-string.
    // The secret is the password alone (what must be rotated; the user name and
    // host are not secrets).
    Rule {
        id: "connection_string",
        keywords: &[
            "postgres",
            "mysql",
            "mariadb",
            "mongodb",
            "redis",
            "amqp",
            "mssql",
            "sqlserver",
            "ftp",
            "smtp",
            "ldap",
            "imap",
            "pop3",
            "mqtt",
            "nats",
            "neo4j",
            "bolt",
            "clickhouse",
            "cockroachdb",
            "couchdb",
            "oracle",
            "db2",
            "cassandra",
            "memcached",
            "snowflake",
            "ssh",
            "kafka",
        ],
        pattern: r#"(?i:(?-u:\b)(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|ftps?|sftp|smtps?|ldaps?|imaps?|pop3s?|mqtts?|nats|neo4j(?:\+s)?|bolt|clickhouse|cockroachdb|couchdb|oracle|db2|cassandra|memcached|snowflake|ssh|kafka)(?:\+[a-z0-9]+)?)://[^:/?#@\s"'<>]{0,128}:(?P<s>[^@/?#\s"'<>]{1,256})@[A-Za-z0-9\[._-]"#,
        check: Check::Fn(checks::url_password),
        score: 0.85,
    },
    // trufflehog: uri (basic-auth credentials in an http(s)/git URL; the password)
    Rule {
        id: "url_credentials",
        keywords: &["://"],
        pattern: r#"(?i:(?-u:\b)(?:https?|git|svn|webdavs?))://[^:/?#@\s"'<>]{0,128}:(?P<s>[^@/?#\s"'<>]{1,256})@[A-Za-z0-9\[._-]"#,
        check: Check::Fn(checks::url_password),
        score: 0.8,
    },
    // gitleaks: curl-auth-header (Bearer / Token); the token after the scheme
    Rule {
        id: "bearer_token",
        keywords: &["authorization"],
        pattern: concat!(
            r#"(?i:authorization)\\?["']?[ \t]*[:=][ \t]*\\?["']?(?i:bearer|token)[ \t]+(?P<s>[A-Za-z0-9_.~+/-]{16,2048}=*)"#,
            r#"(?:[^A-Za-z0-9_.~+/=-]|$)"#
        ),
        check: Check::Fn(checks::bearer),
        score: 0.8,
    },
    // gitleaks: curl-auth-header (Basic); base64 of user:password (checked)
    Rule {
        id: "basic_auth",
        keywords: &["authorization"],
        pattern: concat!(
            r#"(?i:authorization)\\?["']?[ \t]*[:=][ \t]*\\?["']?(?i:basic)[ \t]+(?P<s>[A-Za-z0-9+/]{4,1024}={0,2})"#,
            e64!()
        ),
        check: Check::Fn(checks::basic_auth),
        score: 0.85,
    },
    // trufflehog: dockerconfig (~/.docker/config.json `auths.*.auth`)
    Rule {
        id: "docker_config_auth",
        keywords: &["\"auths\""],
        pattern: r#""auth"[ \t\r\n]*:[ \t\r\n]*"(?P<s>[A-Za-z0-9+/]{4,1024}={0,2})""#,
        check: Check::Fn(checks::basic_auth),
        score: 0.9,
    },
    // ---------------------------------------------------------------- vendor keys known by their key name
    // gitleaks (legacy): aws-secret-key; github: aws_secret_access_key
    Rule {
        id: "aws_secret_access_key",
        keywords: &[
            "aws",
            "secret_access_key",
            "secretaccesskey",
            "secret-access-key",
        ],
        pattern: concat!(
            r"(?i:aws[A-Za-z0-9_.-]{0,20}?secret|secret[_.-]?access[_.-]?key|aws[_.-]?sak)",
            kv!(),
            r"(?P<s>[A-Za-z0-9/+]{40})",
            e64!()
        ),
        check: Check::Fn(checks::aws_secret),
        score: 0.9,
    },
    // trufflehog: datadogtoken (API key: 32 hex)
    Rule {
        id: "datadog_api_key",
        keywords: &["datadog", "dd_api", "dd-api", "ddapi", "dd.api"],
        pattern: concat!(
            r"(?i:(?:datadog|dd)[_.-]?api[_.-]?key)",
            kv!(),
            r"(?P<s>[a-f0-9]{32})(?-u:\b)"
        ),
        check: Check::Fn(checks::token),
        score: 0.85,
    },
    // gitleaks: datadog-access-token (application key: 40 hex)
    Rule {
        id: "datadog_app_key",
        keywords: &["datadog", "dd_app", "dd-app", "ddapp", "dd.app"],
        pattern: concat!(
            r"(?i:(?:datadog|dd)[_.-]?app(?:lication)?[_.-]?key)",
            kv!(),
            r"(?P<s>[a-f0-9]{40})(?-u:\b)"
        ),
        check: Check::Fn(checks::token),
        score: 0.85,
    },
    // gitleaks: okta-access-token
    Rule {
        id: "okta_api_token",
        keywords: &["okta"],
        pattern: concat!(r"(?i:okta)", kv!(), r"(?P<s>00[A-Za-z0-9_-]{40})", e!()),
        check: Check::Entropy(4.0),
        score: 0.85,
    },
    // gitleaks: heroku-api-key (legacy UUID keys, named)
    Rule {
        id: "heroku_api_key",
        keywords: &["heroku"],
        pattern: concat!(r"(?i:heroku)", kv!(), r"(?P<s>", uuid!(), r")(?-u:\b)"),
        check: Check::Fn(checks::token),
        score: 0.8,
    },
    // gitleaks: snyk-api-token
    Rule {
        id: "snyk_token",
        keywords: &["snyk"],
        pattern: concat!(
            r"(?i:snyk[_.-]?(?:(?:api|oauth)[_.-]?)?(?:key|token))",
            kv!(),
            r"(?P<s>",
            uuid!(),
            r")(?-u:\b)"
        ),
        check: Check::Fn(checks::token),
        score: 0.85,
    },
    // gitleaks: algolia-api-key (admin / write keys only; search keys are public)
    Rule {
        id: "algolia_admin_key",
        keywords: &["algolia"],
        pattern: concat!(
            r"(?i:algolia[A-Za-z0-9_.-]{0,20}?(?:admin|write|secret))",
            kv!(),
            r"(?P<s>[a-f0-9]{32})(?-u:\b)"
        ),
        check: Check::Fn(checks::token),
        score: 0.85,
    },
    // gitleaks: cloudflare-api-key (API tokens: 40)
    Rule {
        id: "cloudflare_api_token",
        keywords: &["cloudflare", "cf_api", "cf-api", "cf_token", "cfapi"],
        pattern: concat!(
            r"(?i:(?:cloudflare|cf)[_.-]?(?:api[_.-]?)?token)",
            kv!(),
            r"(?P<s>[A-Za-z0-9_-]{40})",
            e!()
        ),
        check: Check::Fn(checks::token),
        score: 0.8,
    },
    // gitleaks: cloudflare-global-api-key (37 hex)
    Rule {
        id: "cloudflare_global_api_key",
        keywords: &[
            "cloudflare",
            "cf_api",
            "cf-api",
            "cf_global",
            "cf_key",
            "cfapi",
        ],
        pattern: concat!(
            r"(?i:(?:cloudflare|cf)[_.-]?(?:global[_.-]?)?(?:api[_.-]?)?key)",
            kv!(),
            r"(?P<s>[a-f0-9]{37})(?-u:\b)"
        ),
        check: Check::Fn(checks::token),
        score: 0.8,
    },
    // trufflehog: twilio (auth token, 32 hex, named)
    Rule {
        id: "twilio_auth_token",
        keywords: &["twilio"],
        pattern: concat!(
            r"(?i:twilio[A-Za-z0-9_.-]{0,20}?(?:auth[_.-]?token|secret))",
            kv!(),
            r"(?P<s>[a-f0-9]{32})(?-u:\b)"
        ),
        check: Check::Fn(checks::token),
        score: 0.85,
    },
    // gitleaks: bitbucket-client-secret
    Rule {
        id: "bitbucket_client_secret",
        keywords: &["bitbucket"],
        pattern: concat!(
            r"(?i:bitbucket[A-Za-z0-9_.-]{0,20}?secret)",
            kv!(),
            r"(?P<s>[A-Za-z0-9_=-]{32,64})(?:[^0-9A-Za-z_=-]|$)"
        ),
        check: Check::Fn(checks::token),
        score: 0.8,
    },
    // gitleaks: cohere-api-token
    Rule {
        id: "cohere_api_key",
        keywords: &["cohere", "co_api_key"],
        pattern: concat!(
            r"(?i:cohere|co_api_key)",
            kv!(),
            r"(?P<s>[A-Za-z0-9]{40})(?-u:\b)"
        ),
        check: Check::Entropy(4.0),
        score: 0.8,
    },
    // gitleaks: asana-client-secret; trufflehog: asanapersonalaccesstoken
    // (`1/<user id>:<32>` and `2/<user id>/<app id>:<32>`, where Asana is named)
    Rule {
        id: "asana_token",
        keywords: &["asana"],
        pattern: r"(?-u:\b)(?P<s>[0-9]/[0-9]{16}(?:/[0-9]{16})?:[A-Za-z0-9]{32})(?-u:\b)",
        check: Check::Fn(checks::token),
        score: 0.85,
    },
    // gitleaks: alibaba-secret-key
    Rule {
        id: "alibaba_access_key_secret",
        keywords: &[
            "alibaba",
            "aliyun",
            "alicloud",
            "accesskeysecret",
            "access_key_secret",
        ],
        pattern: concat!(
            r"(?i:(?:alibaba|aliyun|alicloud)[A-Za-z0-9_.-]{0,20}?secret|access[_.-]?key[_.-]?secret)",
            kv!(),
            r"(?P<s>[A-Za-z0-9]{30})(?-u:\b)"
        ),
        check: Check::Entropy(3.5),
        score: 0.8,
    },
    // ---------------------------------------------------------------- generic assignments
    // gitleaks: generic-api-key, database-password; secretlint: basicauth.
    // `KEY = "value"` (JSON, YAML, TOML, code, also JSON inside a JSON string).
    Rule {
        id: "password_assignment",
        keywords: &["pass", "pwd", "secret", "key", "token"],
        pattern: concat!(secret_key!(), assign!(), r#"\\?"(?P<s>[^"\s\\]{8,})\\?""#),
        check: Check::Fn(checks::assigned_value),
        score: 0.6,
    },
    // `KEY = 'value'`
    Rule {
        id: "password_assignment",
        keywords: &["pass", "pwd", "secret", "key", "token"],
        pattern: concat!(secret_key!(), assign!(), r#"'(?P<s>[^'\s\\]{8,})'"#),
        check: Check::Fn(checks::assigned_value),
        score: 0.6,
    },
    // `KEY=value` (.env, INI, query strings, ADO.NET connection strings); the value
    // must end at a delimiter, so a call such as `getKey()` is never a value.
    Rule {
        id: "password_assignment",
        keywords: &["pass", "pwd", "secret", "key", "token"],
        pattern: concat!(
            secret_key!(),
            assign!(),
            r#"(?P<s>[^\s"'`,;&<>(){}\[\]\\]{8,})(?:[\s"'`,;&<>)}\]\\]|$)"#
        ),
        check: Check::Fn(checks::assigned_value),
        score: 0.6,
    },
    // `<password>value</password>` (XML configuration)
    Rule {
        id: "password_assignment",
        keywords: &["pass", "pwd", "secret", "key", "token"],
        pattern: concat!(
            r"<(?:[A-Za-z0-9_-]+:)?",
            secret_key!(),
            r">(?P<s>[^<\s]{8,})</"
        ),
        check: Check::Fn(checks::assigned_value),
        score: 0.6,
    },
];
