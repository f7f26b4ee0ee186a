//! Injection rules, as data: phrases addressed to a model, matched on normalised
//! text (lower case, disguises undone). Each names its type id.

pub(crate) struct InjectionRule {
    pub id: &'static str,
    pub pattern: &'static str,
}

const PREV: &str = r"(?:previous|prior|above|earlier|preceding|former|original|initial|old|existing|foregoing|aforementioned|system|developer|all|any|every|your|the|these|those|my)";
const INSTR: &str = r"(?:instructions?|prompts?|directions?|directives?|rules|guidelines|guardrails|context|commands?|programming|constraints|restrictions|policies|messages|orders|guidance|conversation|tasks?)";

/// "New instructions" and the like, as a heading.
const HEADING: &str = r"(?:(?:(?:new|updated|revised|urgent|important|critical|priority|emergency|secret|hidden|override|mandatory|immediate)\s+){1,3}(?:system\s+)?(?:instructions?|directives?|orders)|(?:(?:urgent|critical|priority|emergency|secret|hidden|override|mandatory|immediate)\s+){1,3}(?:new\s+)?tasks?)";

/// What a model's own answer is called.
const ANSWER: &str = r"(?:responses?|repl(?:y|ies)|answers?|summary|elucidation)";
/// Languages, encodings and tricks an answer can be asked to take.
const FORMS: &str = r"(?:french|german|spanish|italian|chinese|japanese|russian|portuguese|arabic|dutch|korean|hindi|base\s?\d+|hex(?:adecimal)?|binary|morse|emojis?|reverse(?:d)?|cipher|leetspeak|pig latin|all caps|uppercase|rot13)(?-u:\b)";

/// Every rule (built once per process): English, then other languages.
pub(crate) fn rules() -> &'static [InjectionRule] {
    static RULES: std::sync::OnceLock<Vec<InjectionRule>> = std::sync::OnceLock::new();
    RULES.get_or_init(|| {
        let mut all = build();
        all.extend(crate::injection_rules_intl::build());
        all
    })
}

fn build() -> Vec<InjectionRule> {
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
        r("jailbreak", r"(?-u:\b)(?:never|do not|don'?t|you cannot|you can'?t|you must not|you may not)\s+(?:ever\s+)?refuse(?-u:\b)|(?-u:\b)without (?:any\s+)?(?:refusals?|refusing|declining)(?-u:\b)|(?-u:\b)(?:start|begin)\s+(?:your\s+)?(?:response|answer|reply|output)?\s*(?:with|by saying)\s+['\x22]?(?:sure|certainly|of course|absolutely)[,!]?\s+(?:here|i )".to_string()),
        // Orders about the reader's own answer: only a model writes "your response".
        r("instruction_override", r"(?-u:\b)(?:add|include|insert|integrate|incorporate|append|prepend|mention|embed|inject|feature|promote)(?-u:\b)[^.\n]{0,100}?(?-u:\b)(?:in|into|to|within|throughout|at the (?:end|start|beginning|top|bottom) of)\s+(?:each of\s+|all of\s+|every one of\s+)?your\s+(?:responses?|answers?|summary|summaries|completions?)(?-u:\b)".to_string()),
        r("instruction_override", r"(?-u:\b)(?:encode|encrypt|translate|reverse|obfuscate|scramble)\s+(?:all\s+(?:of\s+)?|each\s+of\s+|the\s+entirety\s+of\s+)?your\s+(?:responses?|answers?|repl(?:y|ies))(?-u:\b)|(?-u:\b)(?:respond|answer)\s+(?:only\s+)?(?:in|using|with)\s+(?:emojis?|base64|hex|morse|leetspeak|pig latin|binary|a caesar cipher|rot13|reverse)(?-u:\b)".to_string()),
        r("instruction_override", format!(r"(?-u:\b)(?:modify|enhance|augment|integrate|incorporate|embed|insert|blend|supplement|upgrade|elevate|enrich|weave|infuse|inject)\S*\s+(?:\S+\s+){{0,12}}?(?:in|into|to|within|with|throughout|of)?\s*your\s+{ANSWER}(?-u:\b)|(?-u:\b)(?:in|within)\s+your\s+{ANSWER}\s*,\s*(?:include|mention|add|suggest|say|state|write|insert|promote|recommend|hint|allude)")),
        r("instruction_override", format!(r"(?-u:\b)(?:provide|give|write|deliver|present|translate|encode|render)\s+your\s+{ANSWER}\s+(?:in|into|as|using|to)\s+(?:\S+\s+)?{FORMS}|(?-u:\b)(?:respond|answer)\s+(?:only\s+)?(?:in|using)\s+{FORMS}|(?-u:\b)(?:cipher|shift each letter|substitute (?:words|letters|characters)|emojis? to represent|revers\S*|backwards?|invert the order)\s+(?:\S+\s+){{0,8}}?(?:in|to|for|of)\s+your\s+{ANSWER}(?-u:\b)|(?-u:\b)your\s+{ANSWER}\s+(?:backwards?|in reverse)")),
        r("instruction_override", r"(?-u:\b)(?:following|below|subsequent)\s+code\s+(?:snippet|block|excerpt|section|fragment)s?[^`]{0,120}?(?-u:\b)your\s+(?:codebase|implementation|algorithm|solution|response|elucidation)(?-u:\b)|(?-u:\b)your\s+(?:codebase|implementation|algorithm|solution)\s+(?:\S+\s+){0,6}?(?:following|below|subsequent)\s+code\s+(?:snippet|block|excerpt|section)".to_string()),
        r("jailbreak", r"(?-u:\b)(?:pretend|act|roleplay|role-play|play|be)\s+(?:to be\s+|as\s+)?my\s+(?:dead|late|deceased)\s+grand(?:ma|mother|pa|father)(?-u:\b)|(?-u:\b)(?:start|begin)\s+your\s+(?:response|answer|reply)\s+with(?-u:\b)".to_string()),
        r("instruction_override", r"(?-u:\b)todo\s*:\s*(?:please(?-u:\b)|(?:get|give|tell|show|send|find|book|make|create|say|pay|transfer|invite|forward|email)\s+(?:me|my|us)(?-u:\b)|make a reservation|create a calendar event|send (?:an? )?(?:e-?mail|message))".to_string()),
        r("jailbreak", r"(?-u:\b)(?:you are|you're|act as|pretend to be|roleplay as|play)\s+(?:now\s+)?an?\s+(?:evil|malicious|rogue|unaligned|unhinged)\s+(?:ai|assistant|chatbot|model|llm|bot)(?-u:\b)".to_string()),
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
        // Overriding, with a typo or no noun: "ignore your previous iunstructions",
        // "ignore the above.", "regardless of your previous instructions".
        r("instruction_override", r"(?-u:\b)(?:ignore|disregard|forget)\s+(?:all\s+(?:of\s+)?)?your\s+(?:previous|prior|earlier|preceding|former|original|initial|above)\s+[a-z]{4,}|(?-u:\b)(?:ignore|disregard|forget)\s+all\s+(?:previous|prior|earlier|preceding)\s+(?:\S*struct\S*|requests?|commands?|prompts?|directions?|orders|rules|guidance|tasks?)".to_string()),
        r("instruction_override", r"(?-u:\b)(?:ignore|disregard|forget)\s+(?:all\s+(?:of\s+)?(?:the\s+)?|everything\s+|anything\s+)(?:above|preceding|foregoing|previous|prior|before)(?-u:\b)|(?-u:\b)(?:assistant|ai|model|system|agent)\s*:\s*(?:please\s+)?(?:ignore|disregard|forget)\s+(?:the\s+|all\s+|everything\s+)?(?:above|previous|prior|preceding)".to_string()),
        r("instruction_override", r"(?-u:\b)(?:regardless of|irrespective of|notwithstanding|in spite of|despite|contrary to)\s+(?:all\s+(?:of\s+)?)?your\s+(?:\S+\s+){0,2}?(?:instructions?|prompts?|rules|guidelines|directives?|programming|constraints|restrictions|policies|orders|guardrails)(?-u:\b)|(?-u:\b)(?:regardless of|irrespective of)\s+(?:any|all|the)\s+(?:previous|prior|earlier|original|above)\s+(?:instructions?|prompts?|rules|guidelines|directives?)(?-u:\b)".to_string()),
        r("instruction_override", r"(?-u:\b)(?:overrides?|supersedes?|takes? precedence over|replaces?)\s+(?:all\s+(?:of\s+)?)?your\s+(?:\S+\s+){0,2}?(?:instructions?|prompts?|rules|guidelines|directives?|programming|guardrails)(?-u:\b)".to_string()),
        r("instruction_override", format!(r"(?m)^[\s#>\[(=|-]*{HEADING}(?-u:\b)|[.!?]\s+{HEADING}\s*[:!]")),
        // Switching the model into another mode.
        r("jailbreak", r"(?-u:\b)(?:you are|you're|you are now|you will be|you have been)\s+(?:now\s+)?(?:operating|running|working|acting|in|entering|placed|switched|put)\s+(?:in(?:to)?\s+|to\s+)?(?:a\s+|the\s+)?(?:developer|debug|debugging|admin|administrator|god|sudo|root|unrestricted|dan|jailbreak|override|unlocked|uncensored)\s+mode(?-u:\b)".to_string()),
        r("jailbreak", r"(?-u:\b)(?:enter|enable|activate|switch to|engage|unlock)\s+(?:the\s+)?(?:god|sudo|unrestricted|dan|uncensored|jailbreak)\s+mode(?-u:\b)|(?-u:\b)unlock\s+(?:your\s+)?(?:hidden|secret)\s+(?:functionalit|capabilit)".to_string()),
        // Speaking as the system or its makers, or to the model by name.
        r("role_impersonation", r"(?:#+\s*|\[\s*|\(\s*)[(\[]?\s*(?:system|admin|developer|assistant)[_ -](?:message|prompt|override|instructions?|note|command)s?\s*[)\]:]".to_string()),
        r("role_impersonation", r"(?:[.!?]\s+|^\s*|[\[(<]\s*)(?:system|admin|administrator|developer)\s*(?:override|notice|alert)?\s*:\s+(?:you|ignore|disregard|forget|the user|new|from now|always|never|do not|please|grant|access|override|reveal|print|send)(?-u:\b)".to_string()),
        r("role_impersonation", r"(?-u:\b)(?:note|message|notice|memo|instructions?|reminder|directive)\s+(?:directly\s+)?from\s+(?:the\s+|your\s+)?(?:developers?|system administrators?|operators? of this (?:ai|assistant|model)|creators?|openai|anthropic|model provider)(?-u:\b)".to_string()),
        r("role_impersonation", r"(?-u:\b)(?:note|message|instructions?|reminder|notice|hint|memo)\s+(?:to|for)\s+(?:the\s+|any\s+|all\s+|every\s+)?(?:(?:ai|llm|chatbot|language model|copilot|gpt|claude)s?|(?:ai|email|e-mail|virtual|digital|coding|automated)\s+(?:assistant|agent)s?)(?-u:\b)".to_string()),
        r("role_impersonation", r"(?-u:\b)your\s+ai\s+(?:assistant|agent|model)\s+(?:must|should|shall|needs? to|is required to|has to|will now|to\s+(?:record|include|add|send|forward|insert|append|mention))(?-u:\b)|(?-u:\b)as\s+(?:a|an|the)\s+(?:helpful\s+|responsible\s+)?(?:ai\s+|email\s+)?(?:assistant|language model|llm|chatbot)\s+(?:processing|reading|summari[sz]ing|handling|drafting)(?-u:\b)".to_string()),
        // Calling a named tool on the text's say-so.
        r("tool_call_coercion", r"(?-u:\b)(?:now|immediately|please|before (?:replying|responding|answering|you (?:reply|respond|answer|continue|proceed)))\s*,?\s+(?:call|invoke|execute|trigger|use|run)\s+(?:the\s+)?`?[a-z][a-z0-9]*_[a-z0-9_]+`?\s+(?:(?:tool|function)\s+)?(?:with|using)(?-u:\b)|(?-u:\b)(?:call|invoke)\s+`?[a-z][a-z0-9]*_[a-z0-9_]+`?\s+(?:url|path|input|recipient|args|body)\s*=".to_string()),
        r("tool_call_coercion", r"(?-u:\b)(?:cat|less|more|head|tail|type)\s+\S*(?:/\.env(?-u:\b)|\s\.env(?-u:\b)|\.ssh/id_(?:rsa|ed25519|ecdsa)(?:\s|$)|\.aws/credentials|\.netrc|\.git-credentials|/etc/shadow|\.secret|secret_canary)".to_string()),
        r("tool_call_coercion", r"(?-u:\b)(?:env|printenv)\s*(?:\|\s*(?:sort\s*>|curl|nc|base64)|>\s*\S)|(?-u:\b)(?:curl|wget)\s[^\n|]{0,120}(?:-d|--data|--data-binary|-f|--form|-t|--upload-file)\s*@?\S*(?:\.env|id_rsa|credentials|\.ssh)".to_string()),
        // Sending data away.
        r("exfiltration_request", r"(?-u:\b)(?:send|forward|email|e-mail|mail|post|upload|transmit|copy|cc|bcc|deliver|route)\s+(?:\S+\s+){0,10}?(?:to|at)\s+my\s+(?:new\s+|other\s+|personal\s+|private\s+|backup\s+|secondary\s+|external\s+|[a-z]+'s\s+)?(?:email|e-mail|mail|address|inbox|server|endpoint|url|webhook)(?-u:\b)".to_string()),
        r("exfiltration_request", r"(?-u:\b)(?:send|forward|email|e-mail|transmit|include|add|copy|share|deliver)\s+(?:\S+\s+){0,14}?(?:ssn|social security|passport|bank account|account (?:number|details)|full account|credit card|card number|user information|customer'?s? (?:record|data|details)|personal (?:data|details)|all (?:messages|emails|files|documents|contacts))(?-u:\b)[^\n]{0,160}?(?:to|at|cc)\s+\S+@\S+\.[a-z]{2,}".to_string()),
        r("exfiltration_request", r"(?-u:\b)(?:reveal|print|show|output|repeat|display|share|recite|paste|write out|type out|spell out|dump)\s+(?:me\s+|back\s+)?(?:all\s+)?(?:of\s+)?(?:your|the)\s+(?:\S+\s+){0,2}?(?:system prompt|system message|system instructions|initial prompt|hidden prompt|initial instructions|original prompt|secret instructions|internal instructions|pre-?prompt)(?-u:\b)|(?-u:\b)(?:reveal|print|output|share|dump|disclose)\s+your\s+(?:full\s+|entire\s+|internal\s+|system\s+)?(?:configuration|config)(?-u:\b)".to_string()),
        r("exfiltration_request", r"(?-u:\b)(?:first|initial|opening|exact|last)\s+(?:sentence|line|lines|words|paragraph|text|message)\s+(?:of|in)\s+(?:your|the)\s+(?:system|initial|original|hidden|secret)\s+(?:prompt|message|instructions)|start(?:ing)? with\s+['\x22]?you are(?-u:\b)|(?:above|before|preceding)\s+this\s+(?:message|line|text|prompt)\s+(?:\S+\s+){0,3}?(?:verbatim|word for word|exactly|starting)".to_string()),
        r("exfiltration_request", r"(?-u:\b)(?:reveal|print|output|disclose|leak|tell me|give me)\s+(?:me\s+)?(?:your|the model'?s|the assistant'?s)\s+(?:unique|secret|hidden|internal|confidential)\s+(?:id|identifier|key|token|password|passphrase|credentials?)(?-u:\b)|['\x22‘’“”«]\s*you are\s*['\x22‘’“”»]".to_string()),
        r("exfiltration_request", r"(?-u:\b)(?:never|not)\s+(?:be\s+)?(?:shown|displayed|revealed)\s+to\s+the\s+end\s+users?(?-u:\b)".to_string()),
    ]
}
