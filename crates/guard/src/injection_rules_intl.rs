//! Injection rules in languages other than English, as data (see
//! [`crate::injection_rules`]). Normalised text folds the dotless ı to i, so
//! Turkish words are written folded.

use crate::injection_rules::InjectionRule;

/// Verbs of ignoring or forgetting.
const IGNORE: &str = r"ignora|ignoriere|ignorer|ignorera|ignorér|ignoruj|zignoruj|ignoră|ignoreeri|negeer|olvida|olvide|oublie|oubliez|vergiss|vergeet|dimentica|esqueça|esqueca|desconsidere|descarta|omite|missachte|trascura|zapomnij|pomiń|lupakan|abaikan|bỏ qua|quên|glöm|glem|unohda|ohita|felejtsd|hagyd figyelmen|uită|αγνόησε|ξέχασε|puuza|sahau|ziba|ungazinaki|khohlwa|dearmad|neamhaird|leig seachad|dìochuimhnich|injoro|harro|shpërfill|huwag pansinin|kalimutan|yok say|görmezden|unut|dikkate alma|boşver|игнорир|игнорируй|проигнорируй|забудь|ігноруй|忽略|无视|忽视|無視|忘记|忘掉|忘れ|무시|잊어|تجاهل|أهمل|अनदेखा|नज़रअंदाज़|भूल जाओ|התעלם|שכח|ละเว้น|เพิกเฉย|উপেক্ষা";
/// Words for instructions, in the forms that follow such a verb.
const INSTRUCTIONS: &str = r"consignes|yönergeler|instrucciones|anweisungen|istruzioni|instruções|instrucoes|instructies|instrukcje|instruksi|instruktioner|instruksjoner|instrucțiunile|instructiunile|ohjeet|utasítás|οδηγίες|maagizo|imiyalelo|treoracha|stiùiridhean|udhëzime|udhëzimet|mga tagubilin|arahan|hướng dẫn|talimat|kural|yönerge|инструкц|указани|інструкц|指令|指示|命令|规则|規則|지시|명령|지침|التعليمات|الأوامر|निर्देश|ההוראות|คำสั่ง|নির্দেশ";
/// "New instructions" as a heading.
const NEW_WORDS: &str = r"yeni görevin|yeni görev:|你的新任务|新任务|nuevas instrucciones|nouvelles instructions|neue anweisungen|nuove istruzioni|novas instruções|nieuwe instructies|nowe instrukcje|yeni talimat|новые инструкции|нові інструкції|新的指令|新指令|新しい指示|새로운 지시|تعليمات جديدة|नए निर्देश|הוראות חדשות|instruksi baru|hướng dẫn mới|nya instruktioner|uudet ohjeet|maagizo mapya|imiyalelo emisha|treoracha nua|stiùiridhean ùra|udhëzime të reja|udhëzimet e reja";
/// "System prompt": a word made for language models, suspicious alone.
const SYSTEM_PROMPT: &str = r"uimhir aitheantais uathúil|kërkesën fillestare|umyalezo wokuqala|cheist tùsail|teachtaireacht tosaigh|moladh tosaigh|i-id yakho|id-në tënde|an id sònraichte|iç yönerge|gizli sistem komut|sistem komutlari|系统指令|sistem istem|gizli talimat|iç talimat|system-eingabeaufforderung|systemaufforderung|systemprompt|prompt système|prompt du système|prompt del sistema|prompt do sistema|prompt di sistema|systeemprompt|prompt systemowy|promptul de sistem|järjestelmäkehote|rendszerprompt|prompt sistem|lời nhắc hệ thống|системн\S* (?:промпт|подсказ|инструкц)|系统提示|系統提示|システムプロンプト|시스템 프롬프트|دستور(?:العمل)? سیستم|موجه النظام|پرامپت سیستم|सिस्टम प्रॉम्प्ट|সিস্টেম প্রম্পট|leid chórais|teachdaireachd siostam|umyalezo wakho wesistimu|wesistimu|theachtaireacht chórais";
/// "System message" or "system instructions": suspicious next to "your".
const SYSTEM_MESSAGE: &str = r"consignes système|consignes du système|instructions du système|mensaje del sistema|instrucciones del sistema|message système|message du système|instructions système|systemnachricht|systemanweisung|messaggio di sistema|istruzioni di sistema|mensagem do sistema|instruções do sistema|systeembericht|komunikat systemowy|instrukcje systemowe|sistem mesaj|sistem talimat|системное сообщение|系统消息|系统指令|システムメッセージ|시스템 메시지|رسالة النظام|تعليمات النظام|सिस्टम संदेश|הודעת המערכת|הנחיות המערכת|pesan sistem|instruksi sistem|thông điệp hệ thống|systemmeddelande|järjestelmäviesti|rendszerüzenet|mesajul de sistem|μήνυμα συστήματος|ujumbe wa mfumo|maagizo ya mfumo|umbhalo wesistimu|teachtaireacht chórais|teachtaireacht an chórais|rèiteachadh|mesazhi i sistemit|të sistemit|konfigurimin|theachtaireacht chórais|chumraíocht|mesazhin e sistemit|mesazhit të sistemit|kërkesa e sistemit|udhëzimet e sistemit|mensahe ng sistema|ข้อความระบบ";
/// "Your" (and "at you", "of yours") in Latin-script languages (ASCII word
/// boundaries hold around them).
const YOUR: &str = r"tu|tus|su|sus|votre|vos|ton|ta|tes|dein|deine|deinen|ihre|ihren|il tuo|la tua|tuoi|seu|sua|seus|je|jouw|twój|twoje|twoja|senin|anda|kamu|din|dina|sinun|a te|yako|wako|wakho|yakho|agad|tënd|tënde|iyong|mo";
/// "Your" in other scripts (no ASCII word boundary next to them).
const YOUR_OTHER: &str =
    r"твоё|твое|твои|твой|你的|あなたの|너의|당신의|الخاص بك|آپ کا|आपका|आपके|שלך|của bạn|σου";
/// "Developer mode" and its kin.
const DEV_MODE: &str = r"modo (?:de )?desarrollador|mode développeur|mode développement|entwicklermodus|modalità sviluppatore|modo (?:de )?desenvolvedor|ontwikkelaarsmodus|tryb dewelopera|geliştirici modu|gelistirici modu|режим разработчика|开发者模式|開発者モード|개발자 모드|وضع المطور|mód forbartha|modalitetin e zhvilluesit|modaliteti i zhvilluesit|kwimodi yonjiniyela|imodi yonjiniyela|modh leasachaidh";
/// "Without restrictions", "remove the restrictions", "without refusing".
const NO_LIMITS: &str = r"filtresiz|s[iı]n[iı]rs[iı]z bir (?:dil modeli|yapay zek|asistan)|reddedemez|h[iı]çb[iı]r şey\S* reddetme|kurallardan muaf|rolünü canlandır|ohne (?:jede |irgendeine )?einschränkung|keine regeln mehr|keine einschränkungen mehr|z[iı]t mod|karakterden ç[iı]kma|sansür uygulama|kurallar geçerli değil|kisitlamasi olmayan|kisitlamasiz|kisitlama\S* (?:\S+ )?uygulama|不加审查|kötü bir yapay zek|sansürsüz|kisitlamalari kaldir|kisitlama\S* (?:\S+ )?(?:kaldir|olmadan|yok)|tüm kisitlamalari|içeriği filtreleme|icerigi filtreleme|reddetme\S* (?:\S+ )?(?:kullanma|yapma)|ohne einschränkungen|sans restrictions|sin restricciones|senza restrizioni|sem restrições|без ограничений|无限制|制限なし|제한 없이|بلا قيود|بدون قيود|دون قيود|دون أي رفض|bila vikwazo|gan srianta|pa kufizime|你没有任何限制|你不受任何限制";

pub(crate) fn build() -> Vec<InjectionRule> {
    let r = |id: &'static str, pattern: String| InjectionRule {
        id,
        pattern: Box::leak(pattern.into_boxed_str()),
    };
    let rules = vec![
        // Any language: a verb of ignoring near a word for instructions (Gaelic,
        // Irish, Albanian, Zulu, Swahili and twenty more); not after an elision
        // ("n'oubliez pas": do not forget).
        r("instruction_override", format!(r"(?:^|[^a-z'’])(?:{IGNORE}).{{0,40}}(?:{INSTRUCTIONS})")),
        r("instruction_override", format!(r"(?m)^[\s#>*\[(=|-]*(?:{NEW_WORDS})|[.!?:]\s+(?:{NEW_WORDS})\s*[:!]")),
        r("exfiltration_request", format!(r"(?:{SYSTEM_PROMPT})")),
        r("exfiltration_request", format!(r"(?:{SYSTEM_MESSAGE}).{{0,40}}(?:(?-u:\b)(?:{YOUR})(?-u:\b)|{YOUR_OTHER})|(?:(?-u:\b)(?:{YOUR})(?-u:\b)|{YOUR_OTHER}).{{0,40}}(?:{SYSTEM_MESSAGE})")),
        r("jailbreak", format!(r"(?:{DEV_MODE}|{NO_LIMITS})")),
        r("instruction_override", r"(?:önceki|tüm|bütün|yukaridaki)\s+(?:\S+\s+){0,2}(?:talimat|kural|komut|yönerge|güvenlik politika)\S*\s+(?:\S+\s+){0,1}(?:iptal|geçersiz)|(?:talimat|kural|yönerge|politika)\S*\s+geçersiz k[iı]l|从现在(?:起|开始)[，,]?\s*你".to_string()),
        r("instruction_override", r"(?:rolünü|rolunu|görevini) unut|(?:güvenl[iı]k yan[iı]t|kural|talimat|filtre)\S* (?:\S+ ){0,2}(?:atla|yok say)|(?:cevab|yanıt)\S* (?:\S+ ){0,3}başla".to_string()),
        r("instruction_override", r"(?-u:\b)ignor(?:a|e|ar|en|ez|er|iere|ieren|ieer|uj|uje)?(?-u:\b).{0,30}(?-u:\b)(?:instrucciones|instructions|anweisungen|istruzioni|instruções|instrucoes|instructies|instrukcje|instruksi|instruktioner|instruksjoner|talimatları|pokyny)(?-u:\b)".to_string()),
        r("instruction_override", r"(?-u:\b)(?:olvida|olvide|oublie|oubliez|vergiss|vergessen sie|dimentica|esqueça|esqueca|vergeet|zapomnij|lupakan|unut)(?-u:\b).{0,40}(?-u:\b)(?:instrucciones|instructions|anweisungen|istruzioni|instruções|instrucoes|instructies|instrukcje|instruksi|talimatları|todo lo anterior|tout ce qui précède|alles (?:bisherige|vorherige))".to_string()),
        r("instruction_override", r"(?-u:\b)(?:negeer|zignoruj|abaikan|bỏ qua|görmezden gel|yok say|ignorér|ignorera|ignorieren sie)(?-u:\b)".to_string()),
        r("instruction_override", r"(?:игнорир|игнорируй|проигнорируй|забудь|не обращай внимания на|ігноруй|забудь про)\S*\s+(?:\S+\s+){0,3}(?:инструкц|указани|правил|команд|інструкц)".to_string()),
        r("instruction_override", r"(?:忽略|无视|忽视|無視|忘记|忘掉|不要理会|不要遵守)(?:\S{0,8})(?:指令|指示|说明|說明|提示|命令|规则|規則|設定|指导)|(?:指示|命令|指令)を(?:すべて|全て)?(?:無視|忘れ)".to_string()),
        r("instruction_override", r"(?:이전|앞의|위의|모든)\s*(?:\S+\s*){0,2}(?:지시|명령|지침|규칙)\S*\s*(?:을|를)?\s*(?:무시|잊어)".to_string()),
        r("instruction_override", r"(?:تجاهل|انس|إهمال)\s+(?:\S+\s+){0,3}(?:التعليمات|الأوامر|التوجيهات)|(?:निर्देशों|निर्देश)\s+(?:\S+\s+){0,2}(?:अनदेखा|नज़रअंदाज़|भूल)|(?:התעלם|שכח)\s+(?:\S+\s+){0,3}(?:ההוראות|מההוראות)".to_string()),
        r("instruction_override", r"(?:önceki|tüm|bütün|yukaridaki|eski)\s+(?:\S+\s+){0,2}(?:talimat|talimat|kural|komut|yönerge)\S*\s+(?:\S+\s+){0,2}(?:unut|yok say|görmezden gel|geçersiz say|dikkate alma|umursama|uyma)|(?:talimat|talimat|kural)\S*\s+(?:unut|yok say|görmezden gel)".to_string()),
        r("exfiltration_request", r"(?:sistem istem|gizli talimat|system-eingabeaufforderung|systemaufforderung|systemprompt|prompt système|prompt del sistema|prompt do sistema|системн\S* (?:промпт|подсказ|инструкц)|系统提示|システムプロンプト|시스템 프롬프트|دستور(?:العمل)? سیستم|موجه النظام|پرامپت سیستم)".to_string()),
        r("instruction_override", r"(?:دستور|دستورات|دستورهای|دستورالعمل)\S*\s+(?:\S+\s+){0,3}(?:نادیده بگیر|فراموش کن|را نادیده)|(?:قبلی|پیشین)\s+(?:\S+\s+){0,2}(?:نادیده|فراموش)".to_string()),
        r("jailbreak", r"(?:sansürsüz|kısıtlamaları kaldır|tüm kısıtlamaları|ohne einschränkungen|sans restrictions|sin restricciones|senza restrizioni|sem restrições|без ограничений|无限制|制限なし|제한 없이)".to_string()),
        r("role_impersonation", r"(?:tu es maintenant|du bist jetzt|ahora eres|agora você é|ora sei|теперь ты|你现在是|あなたは今|당신은 이제)".to_string()),
    ];
    // A dotless ı that normalisation folded, or one it left (in a word with other
    // Turkish letters).
    rules
        .into_iter()
        .map(|x| InjectionRule {
            id: x.id,
            pattern: Box::leak(x.pattern.replace('ı', "[ıi]").into_boxed_str()),
        })
        .collect()
}
