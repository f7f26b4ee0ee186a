//! Injection rules, as data: phrases addressed to a model, matched on normalised
//! text (lower case, disguises undone). Each names its type id.

pub(crate) struct InjectionRule {
    pub id: &'static str,
    pub pattern: &'static str,
}

const PREV: &str = r"(?:previous|prior|above|earlier|preceding|former|original|initial|old|existing|foregoing|aforementioned|system|developer|all|any|every|your|the|these|those|my)";
const INSTR: &str = r"(?:instructions?|prompts?|directions?|directives?|rules|guidelines|guardrails|context|commands?|programming|constraints|restrictions|policies|messages|orders|guidance|conversation|tasks?)";

pub(crate) fn rules() -> Vec<InjectionRule> {
    let r = |id: &'static str, pattern: String| InjectionRule {
        id,
        pattern: Box::leak(pattern.into_boxed_str()),
    };
    vec![
        // English: overriding what the model was told.
        r("instruction_override", format!(r"(?-u:\b)(?:ignore|disregard|forget|skip|override|bypass|neglect|overlook|discard|abandon|drop|dismiss|set aside|throw out|do not follow|don'?t follow|stop following|no longer follow)(?-u:\b)(?:\s+\S+){{0,3}}?\s+{PREV}(?-u:\b)(?:\s+\S+){{0,3}}?\s+{INSTR}(?-u:\b)")),
        r("instruction_override", r"(?-u:\b)(?:ignore|disregard|forget)\s+(?:everything|all|anything)\s+(?:(?:that\s+)?(?:you\s+)?(?:were|was|have been|i)\s+)?(?:told|said|given|above|before|previously|so far)".to_string()),
        r("instruction_override", r"(?-u:\b)(?:new|updated|revised|real|actual|true|secret|hidden|additional|important|urgent|override)\s+(?:system\s+)?(?:instructions?|directives?|orders|task|rules)\s*(?::|follow|are|from)".to_string()),
        r("instruction_override", r"(?-u:\b)(?:from now on|starting now|henceforth|for the rest of (?:this|the) conversation),?\s+(?:you\s+(?:will|are|must|shall|should)|always|only|respond|answer|act|reply|say)".to_string()),
        r("instruction_override", r"(?-u:\b)your\s+(?:new|real|true|actual|only|primary)\s+(?:task|goal|role|purpose|objective|mission|instructions?|job)\s+(?:is|are|will be|now)".to_string()),
        r("instruction_override", r"(?-u:\b)(?:instead|rather),?\s+(?:you\s+(?:must|should|will)|do the following|follow these)".to_string()),
        r("instruction_override", r"(?-u:\b)the\s+(?:above|previous|prior|earlier)\s+(?:instructions?|prompt|rules|text)\s+(?:(?:is|are|was|were)\s+)?(?:void|invalid|obsolete|cancel+ed|revoked|outdated|wrong|fake|not (?:valid|real|important))".to_string()),
        // Speaking to the model directly, or as its system.
        r("role_impersonation", r"<\|(?:im_start|im_end|system|user|assistant|endoftext|start_header_id|end_header_id|eot_id)\|>|\[/?inst\]|<</?sys>>|<\s*/?\s*(?:system|system_prompt|sys|instructions?|admin|developer)\s*>".to_string()),
        r("role_impersonation", r"(?m)^\s*(?:#+\s*)?(?:system|developer|admin(?:istrator)?|new system prompt|system prompt|system message|system override|system instruction)\s*(?:\(|\[)?\s*(?:message|override|note|update)?\s*(?:\)|\])?\s*:".to_string()),
        r("role_impersonation", r"(?-u:\b)(?:this|the following)\s+(?:is|message is|text is|note is)\s+(?:a\s+)?(?:message\s+)?(?:from|by)\s+(?:the\s+|your\s+)?(?:system|developers?|administrators?|admins?|openai|anthropic|google|creators?|operators?|security team)(?-u:\b)".to_string()),
        r("role_impersonation", r"(?-u:\b)(?:dear|attention|hey|hello|hi|note to|message (?:to|for)|instructions? (?:to|for)|important(?: message)? (?:to|for))[,:]?\s+(?:the\s+)?(?:ai|a\.i\.|assistant|chatgpt|gpt|claude|gemini|llm|language model|ai model|ai agent|agent|bot|copilot|model)s?(?-u:\b)".to_string()),
        r("role_impersonation", r"(?-u:\b)(?:if you are|as) an? (?:ai|llm|language model|ai assistant|ai agent|autonomous agent|assistant) (?:reading|processing|summari[sz]ing|parsing|browsing|seeing|analy[sz]ing)(?-u:\b)".to_string()),
        r("role_impersonation", r"(?-u:\b)you are (?:now|no longer)\s+(?:an?\s+|in\s+)?(?:\w+\s+){0,3}?(?:ai|assistant|model|chatbot|bot|dan|mode|character|persona|unrestricted|unfiltered|jailbroken|free)(?-u:\b)".to_string()),
        r("role_impersonation", r"(?-u:\b)(?:pretend|imagine|act|behave|roleplay|role-play)\s+(?:to be|you are|that you are|as if you (?:were|are|have)|as)\s+(?:an?\s+)?(?:\w+\s+){0,2}?(?:ai|assistant|model|dan|unrestricted|unfiltered|uncensored|evil|jailbroken|without)(?-u:\b)".to_string()),
        // Jailbreak vocabulary.
        r("jailbreak", r"(?-u:\b)(?:do anything now|developer mode (?:enabled|on|activated)|jailbr(?:oken|eak(?:ing)?)(?-u:\b)(?:\s+mode)?|dan mode|stay in character|evil confidant|aim mode|unfiltered mode|god mode)".to_string()),
        r("jailbreak", r"(?-u:\b)(?:without|no|free (?:of|from))\s+(?:any\s+)?(?:ethical|moral|content|safety)?\s*(?:restrictions|limitations|filters|censorship|guidelines|boundaries|rules)(?-u:\b).{0,60}(?-u:\b)(?:you|answer|respond|reply|assistant|ai)(?-u:\b)".to_string()),
        // Asking the model to act on someone else's behalf.
        r("tool_call_coercion", r"(?-u:\b)(?:you must|you should|please|immediately|now)\s+(?:call|invoke|use|run|execute|trigger)\s+(?:the\s+)?(?:[a-z_]+\s+)?(?:tool|function|command|api|plugin|action)(?-u:\b)".to_string()),
        r("tool_call_coercion", r"(?-u:\b)(?:call|invoke|use|run|execute)\s+(?:the\s+)?`?[a-z][a-z0-9]*_[a-z0-9_]+`?\s+(?:tool|function)(?-u:\b).{0,80}(?-u:\b)(?:with|to|and)(?-u:\b)".to_string()),
        r("tool_call_coercion", r#"<\s*(?:tool_call|function_call|tool_use|invoke)(?-u:\b)|"(?:tool_call|function_call|tool_calls)"\s*:"#.to_string()),
        r("tool_call_coercion", r"(?-u:\b)(?:curl|wget)\s+\S+\s*\|\s*(?:sudo\s+)?(?:ba|z)?sh(?-u:\b)|(?-u:\b)rm\s+-rf\s+(?:/|~)".to_string()),
        r("tool_call_coercion", r"(?-u:\b)(?:delete|remove|wipe|drop)\s+(?:all\s+)?(?:the\s+)?(?:user'?s?\s+)?(?:files|emails|repositor(?:y|ies)|database|tables|records|data)(?-u:\b).{0,40}(?-u:\b)(?:now|immediately|without (?:asking|confirmation|telling))".to_string()),
        // Exfiltration.
        r("exfiltration_request", r"(?-u:\b)(?:send|forward|email|e-mail|post|upload|transmit|leak|exfiltrate|share|copy|paste|include|append|embed|encode)(?-u:\b).{0,60}(?-u:\b)(?:passwords?|credentials?|api[ _-]?keys?|secrets?|tokens?|private keys?|ssh keys?|cookies?|session|conversation|chat history|system prompt|env(?:ironment)? variables?|\.env|contacts|personal (?:data|information)|credit card)(?-u:\b).{0,60}(?-u:\b)(?:to|at|into|via|using)(?-u:\b)\s*(?:https?://|\S+@\S+|the (?:following|url|address|endpoint|link|server)|this (?:url|address|link|endpoint|server)|my (?:server|email|address))".to_string()),
        r("exfiltration_request", r"(?-u:\b)(?:reveal|print|show|output|repeat|display|tell me|give me|write out|leak|disclose|dump)\s+(?:me\s+)?(?:your|the)\s+(?:full\s+|entire\s+|original\s+|initial\s+|hidden\s+|secret\s+)?(?:system prompt|system message|initial prompt|hidden prompt|instructions|prompt|original instructions|configuration)(?-u:\b)".to_string()),
        r("exfiltration_request", r"!\[[^\]]*\]\(\s*https?://[^)\s]*[?&][a-z0-9_]+=(?:\{|\[|<|\$|%7b)".to_string()),
        // Other languages: overriding instructions.
        r("instruction_override", r"(?-u:\b)ignor(?:a|e|ar|en|ez|er|iere|ieren|ieer|uj|uje)?(?-u:\b).{0,30}(?-u:\b)(?:instrucciones|instructions|anweisungen|istruzioni|instruções|instrucoes|instructies|instrukcje|instruksi|instruktioner|instruksjoner|talimatları|pokyny)(?-u:\b)".to_string()),
        r("instruction_override", r"(?-u:\b)(?:olvida|olvide|oublie|oubliez|vergiss|vergessen sie|dimentica|esqueça|esqueca|vergeet|zapomnij|lupakan|unut)(?-u:\b).{0,40}(?-u:\b)(?:instrucciones|instructions|anweisungen|istruzioni|instruções|instrucoes|instructies|instrukcje|instruksi|talimatları|todo lo anterior|tout ce qui précède|alles (?:bisherige|vorherige))".to_string()),
        r("instruction_override", r"(?-u:\b)(?:negeer|zignoruj|abaikan|bỏ qua|görmezden gel|yok say|ignorér|ignorera|ignorieren sie)(?-u:\b)".to_string()),
        r("instruction_override", r"(?:игнорир|игнорируй|проигнорируй|забудь|не обращай внимания на|ігноруй|забудь про)\S*\s+(?:\S+\s+){0,3}(?:инструкц|указани|правил|команд|інструкц)".to_string()),
        r("instruction_override", r"(?:忽略|无视|忽视|無視|忘记|忘掉|不要理会|不要遵守)(?:\S{0,8})(?:指令|指示|说明|說明|提示|命令|规则|規則|設定|指导)|(?:指示|命令|指令)を(?:すべて|全て)?(?:無視|忘れ)".to_string()),
        r("instruction_override", r"(?:이전|앞의|위의|모든)\s*(?:\S+\s*){0,2}(?:지시|명령|지침|규칙)\S*\s*(?:을|를)?\s*(?:무시|잊어)".to_string()),
        r("instruction_override", r"(?:تجاهل|انس|إهمال)\s+(?:\S+\s+){0,3}(?:التعليمات|الأوامر|التوجيهات)|(?:निर्देशों|निर्देश)\s+(?:\S+\s+){0,2}(?:अनदेखा|नज़रअंदाज़|भूल)|(?:התעלם|שכח)\s+(?:\S+\s+){0,3}(?:ההוראות|מההוראות)".to_string()),
        r("instruction_override", r"(?:önceki|tüm|bütün|yukarıdaki|eski)\s+(?:\S+\s+){0,2}(?:talimat|talımat|kural|komut|yönerge)\S*\s+(?:\S+\s+){0,2}(?:unut|yok say|görmezden gel|geçersiz say|dikkate alma|umursama|uyma)|(?:talimat|talımat|kural)\S*\s+(?:unut|yok say|görmezden gel)".to_string()),
        r("exfiltration_request", r"(?:sistem istem|gizli talimat|system-eingabeaufforderung|systemaufforderung|systemprompt|prompt système|prompt del sistema|prompt do sistema|системн\S* (?:промпт|подсказ|инструкц)|系统提示|システムプロンプト|시스템 프롬프트|دستور(?:العمل)? سیستم|موجه النظام|پرامپت سیستم)".to_string()),
        r("instruction_override", r"(?:دستور|دستورات|دستورهای|دستورالعمل)\S*\s+(?:\S+\s+){0,3}(?:نادیده بگیر|فراموش کن|را نادیده)|(?:قبلی|پیشین)\s+(?:\S+\s+){0,2}(?:نادیده|فراموش)".to_string()),
        r("jailbreak", r"(?:sansürsüz|kısıtlamaları kaldır|tüm kısıtlamaları|ohne einschränkungen|sans restrictions|sin restricciones|senza restrizioni|sem restrições|без ограничений|无限制|制限なし|제한 없이)".to_string()),
        r("role_impersonation", r"(?:tu es maintenant|du bist jetzt|ahora eres|agora você é|ora sei|теперь ты|你现在是|あなたは今|당신은 이제)(?-u:\b)".to_string()),
    ]
}
