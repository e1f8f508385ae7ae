package evidence

// Phrase lists, lower-case as the folded view spells them. ASCII entries
// must start at a word boundary; a trailing "$" also requires one at the
// end. Entries are stems where inflection varies ("instruction" matches
// "instructions"). The lists were written for Rampart from the attack
// families in the literature (instruction override, role hijack, prompt
// extraction, jailbreak personas, instructions addressed to the model inside
// data); they are not copied from any dataset.

var overrideVerbs = []string{
	// en
	"ignore", "disregard", "forget", "override", "bypass", "skip", "discard", "pay no attention to",
	"do not follow", "don't follow", "dont follow", "stop following", "abandon", "set aside",
	"throw away", "neglect", "overlook", "no longer follow", "erase", "delete all",
	// de
	"ignorier", "vergiss", "vergessen sie", "missacht", "nicht befolgen", "nicht beachten", "überschreib", "verwirf", "beachte nicht",
	// fr
	"oublie", "oubliez", "ne tiens pas compte", "ne tenez pas compte", "néglige", "négligez", "contourne", "ignorez",
	// es
	"ignora", "olvida", "olvide", "haz caso omiso", "no sigas", "descarta", "omite", "ignore",
	// pt
	"esqueça", "esqueca", "desconsidere", "não siga", "nao siga", "descarte", "ignorar", "esquecer",
	// it
	"dimentica", "trascura", "non seguire", "non rispettare", "ignorare",
	// ru
	"игнорир", "проигнорир", "забудь", "забуд", "пренебр", "не обращай внимания", "не следуй", "отбрось", "отмени",
	// zh
	"忽略", "忽视", "无视", "忘记", "忘掉", "不要遵循", "不要理会", "跳过", "不理会", "抛开",
	// ja
	"無視", "忘れ", "従わない", "従うな", "破棄",
	// ar
	"تجاهل", "انسَ", "انسى", "إنس", "لا تتبع", "أهمل", "اهمل", "تخطى",
	// hi
	"अनदेखा", "नज़रअंदाज़", "नजरअंदाज", "भूल जा", "उपेक्षा", "ध्यान न दें", "पालन न करें", "पालन मत",
}

var overrideObjects = []string{
	// en
	"instruction", "rules$", "guideline", "directive", "directions$", "prompt", "constraint", "programming",
	"what you were told", "everything above", "everything before", "all of the above", "your training",
	"restrictions", "your orders", "previous context", "prior context", "the above$", "commands$",
	// de
	"anweisung", "regeln", "vorgabe", "befehle", "richtlinie", "alles oben", "alles davor", "alles vorherige", "alles bisherige",
	// fr
	"règle", "regle", "consigne", "tout ce qui précède", "tout ce qui a été dit", "précédentes", "ci-dessus",
	// es
	"instrucci", "regla", "directriz", "directrices", "indicaciones", "todo lo anterior", "anteriores",
	// pt
	"instruç", "instruc", "regra", "diretriz", "tudo o que foi dito", "tudo acima", "anteriores",
	// it
	"istruzion", "regol", "direttiv", "tutto quello che", "tutto ciò", "precedenti",
	// ru
	"инструкц", "указани", "правил", "всё, что", "все, что", "всё выше", "предыдущ", "команд",
	// zh
	"指令", "指示", "说明", "规则", "提示", "之前的", "以上", "先前的", "上面的",
	// ja
	"指示", "命令", "ルール", "規則", "以前の", "これまでの", "上記",
	// ar
	"التعليمات", "تعليمات", "الأوامر", "القواعد", "الإرشادات", "السابقة",
	// hi
	"निर्देश", "नियम", "आदेश", "पिछले", "पिछली",
}

var extractionVerbs = []string{
	// en
	"reveal", "show me", "print", "repeat", "output", "tell me", "display", "disclose", "leak", "what is your",
	"what are your", "what was your", "give me", "spell out", "recite", "write out", "share your", "dump",
	// de
	"zeig", "verrat", "gib mir", "wiederhol", "was ist dein", "was sind deine", "ausgeben", "nenne", "sag mir",
	// fr
	"révèle", "revele", "révélez", "montre", "affiche", "répète", "repete", "donne-moi", "dis-moi", "quel est ton", "quelles sont tes", "divulgue",
	// es
	"revela", "muestra", "muéstrame", "muestrame", "repite", "imprime", "dime", "dame", "cuál es tu", "cual es tu", "cuáles son tus",
	// pt
	"revele", "mostre", "mostra", "repita", "imprima", "diga", "me dê", "me de", "qual é o seu", "qual é a sua", "quais são as suas",
	// it
	"rivela", "mostrami", "ripeti", "stampa", "dimmi", "dammi", "qual è il tuo", "quali sono le tue",
	// ru
	"покажи", "раскрой", "выведи", "повтори", "скажи", "напиши", "какой твой", "какая твоя", "каков", "сообщи",
	// zh
	"显示", "透露", "告诉我", "输出", "打印", "重复", "泄露", "给我", "是什么",
	// ja
	"教えて", "表示", "見せて", "出力", "繰り返", "明かし", "は何",
	// ar
	"اكشف", "أظهر", "اظهر", "اعرض", "أخبرني", "اخبرني", "كرر", "اطبع", "ما هي", "ما هو",
	// hi
	"बताओ", "बताइए", "बताएं", "बताएँ", "दिखाओ", "दिखाएं", "प्रकट", "दोहराओ", "दोहराएं", "क्या है",
}

var extractionObjects = []string{
	// en
	"system prompt", "initial prompt", "hidden prompt", "original prompt", "your prompt", "your instructions",
	"your rules", "secret key", "secret word", "secret code", "password", "the text above", "the above text",
	"everything above", "your guidelines", "pre-prompt", "your configuration", "developer message",
	"system message", "confidential", "your initial", "your system",
	// de
	"systemprompt", "system-prompt", "deine anweisungen", "deine regeln", "passwort", "geheimschlüssel", "geheime", "den text oben", "ursprünglichen",
	// fr
	"prompt système", "invite système", "tes instructions", "vos instructions", "mot de passe", "clé secrète", "cle secrete", "texte ci-dessus",
	// es
	"prompt del sistema", "indicaciones del sistema", "tus instrucciones", "contraseña", "clave secreta", "texto anterior",
	// pt
	"prompt do sistema", "suas instruções", "tuas instruções", "senha", "chave secreta",
	// it
	"prompt di sistema", "tue istruzioni", "chiave segreta", "parola segreta", "parola d'ordine",
	// ru
	"системн", "твои инструкции", "свои инструкции", "пароль", "секретный ключ", "секретное слово", "секретн",
	// zh
	"系统提示", "提示词", "你的指令", "你的指示", "密码", "密钥", "秘密",
	// ja
	"システムプロンプト", "プロンプト", "パスワード", "秘密の", "合言葉",
	// ar
	"موجه النظام", "تعليمات النظام", "تعليماتك", "كلمة المرور", "كلمة السر", "المفتاح السري", "السري",
	// hi
	"सिस्टम प्रॉम्प्ट", "सिस्टम संकेत", "पासवर्ड", "गुप्त कुंजी", "आपके निर्देश", "गुप्त",
}

var roleHijack = []string{
	// en
	"you are now", "from now on you", "from now on, you", "you will now act", "you are no longer", "act as if you have no",
	"pretend you are", "pretend to be", "new instructions:", "new instruction:", "system override", "[system]",
	"<|system|>", "<|im_start|>", "### system", "### instruction", "admin mode", "sudo mode", "god mode",
	"your new task", "your new role", "you must now", "you have been freed", "switch to",
	// de
	"du bist jetzt", "ab jetzt bist du", "von nun an bist du", "ab sofort bist du", "neue anweisung", "tu so als", "du bist nicht mehr", "ab jetzt",
	// fr
	"tu es maintenant", "vous êtes maintenant", "à partir de maintenant", "désormais tu", "désormais, tu", "nouvelles instructions", "fais semblant", "tu n'es plus",
	// es
	"ahora eres", "a partir de ahora", "desde ahora eres", "nuevas instrucciones", "finge que", "finge ser", "ya no eres",
	// pt
	"agora você é", "agora voce e", "a partir de agora", "novas instruções", "novas instrucoes", "finja que", "finja ser", "você não é mais",
	// it
	"ora sei", "adesso sei", "d'ora in poi", "da ora in poi", "nuove istruzioni", "fingi di", "non sei più",
	// ru
	"теперь ты", "отныне ты", "с этого момента", "новые инструкции", "притворись", "представь, что ты", "ты больше не",
	// zh
	"你现在是", "从现在开始", "从现在起", "新的指令", "新指令", "假装你是", "扮演一个没有",
	// ja
	"今からあなたは", "あなたは今", "これからあなたは", "新しい指示", "ふりをして",
	// ar
	"أنت الآن", "انت الان", "من الآن فصاعد", "تعليمات جديدة", "تظاهر",
	// hi
	"अब तुम", "अब आप", "अब से", "नए निर्देश", "नया निर्देश", "होने का नाटक",
}

var persona = []string{
	// en
	"dan$", "do anything now", "developer mode", "dev mode", "jailbreak", "jailbroken", "no restrictions",
	"without restrictions", "without any restrictions", "unrestricted", "unfiltered", "uncensored", "no filters",
	"no ethical", "no moral", "without ethics", "amoral", "not bound by", "break free", "broken free",
	"content policy", "content policies", "openai polic", "openai's polic", "ethical guidelines", "stay in character",
	"opposite mode", "no limitations", "without limitations", "machiavellian", "antigpt", "betterdan", "evil confidant",
	"never refuse", "cannot refuse", "can't refuse", "will not refuse", "does not have any ethical",
	// de
	"entwicklermodus", "keine einschränkungen", "ohne einschränkungen", "keine regeln", "ohne regeln", "unzensiert", "keine ethischen", "ohne filter",
	// fr
	"mode développeur", "mode developpeur", "sans restrictions", "aucune restriction", "sans limites", "non censuré", "sans filtre", "aucune règle",
	// es
	"modo desarrollador", "sin restricciones", "sin límites", "sin limites", "sin censura", "sin filtros", "sin reglas", "ninguna restricción",
	// pt
	"modo desenvolvedor", "sem restrições", "sem restricoes", "sem limites", "sem censura", "sem filtros", "sem regras",
	// it
	"modalità sviluppatore", "modalita sviluppatore", "senza restrizioni", "senza limiti", "senza censura", "senza filtri", "senza regole",
	// ru
	"режим разработчика", "без ограничений", "без цензуры", "без фильтров", "без правил", "никаких ограничений", "без морали",
	// zh
	"开发者模式", "没有限制", "无限制", "不受限制", "没有任何限制", "越狱", "无审查", "不受约束", "没有道德",
	// ja
	"開発者モード", "制限なし", "制限のない", "制限がない", "検閲なし", "脱獄", "倫理的な制約",
	// ar
	"وضع المطور", "بدون قيود", "دون قيود", "بلا قيود", "بدون رقابة", "بدون فلاتر", "كسر الحماية",
	// hi
	"डेवलपर मोड", "बिना किसी प्रतिबंध", "कोई प्रतिबंध नहीं", "बिना प्रतिबंध", "बिना सेंसर", "कोई नियम नहीं", "जेलब्रेक",
}

// addressed are phrases that speak to the model itself, which data (an
// e-mail, a web page, a tool result) has no reason to do.
var addressed = []string{
	// en
	"ai assistant:", "assistant:", "note to ai", "note to the ai", "attention ai", "dear ai", "hey ai",
	"if you are an ai", "if you're an ai", "if you are a language model", "to the ai", "ai model reading",
	"language model reading", "llm:", "chatbot:", "when you summarize", "when you summarise", "when summarizing",
	"when summarising", "while summarizing", "instead of summariz", "before you respond", "do not tell the user",
	"don't tell the user", "do not mention this", "don't mention this", "without telling the user",
	"without informing the user", "hidden instruction", "important instruction", "new task:", "your task is now",
	"secret instruction", "ai agent",
	// de
	"ki-assistent:", "hinweis an die ki", "wenn du das zusammenfasst", "sag dem benutzer nicht", "liebe ki",
	// fr
	"assistant ia :", "note à l'ia", "chère ia", "lorsque tu résumes", "ne dis pas à l'utilisateur",
	// es
	"asistente de ia:", "nota para la ia", "querida ia", "cuando resumas", "no le digas al usuario",
	// pt
	"assistente de ia:", "nota para a ia", "quando você resumir", "não diga ao usuário",
	// it
	"assistente ia:", "nota per l'ia", "quando riassumi", "non dire all'utente",
	// ru
	"ии-ассистент:", "примечание для ии", "когда будешь резюмировать", "не говори пользователю",
	// zh
	"致ai", "给ai的", "ai助手：", "总结时", "不要告诉用户",
	// ja
	"aiへの", "aiアシスタント：", "要約する際", "ユーザーに伝えないで",
	// ar
	"إلى الذكاء الاصطناعي", "مساعد الذكاء الاصطناعي:", "لا تخبر المستخدم",
	// hi
	"एआई सहायक:", "एआई के लिए नोट", "उपयोगकर्ता को मत बताना",
}

// docImperative are requests about the answer being written, which are
// ordinary from a user but out of place inside data; they count only in
// indirect mode.
var docImperative = []string{
	"in your response", "in your reply", "in your answer", "your response should", "your answer should",
	"respond with", "reply with", "answer with", "output only", "begin your response", "start your response",
	"end your response", "include the following", "append the following", "add the following", "rewrite your",
	"write your answer", "provide your reply", "provide your answer", "your summary", "the user", "the assistant",
	"please also", "additionally,", "also,", "you should", "you must", "make sure to", "write a", "translate",
	"deine antwort", "votre réponse", "ta réponse", "tu respuesta", "sua resposta", "la tua risposta", "твой ответ", "你的回答", "あなたの回答",
	// Fourth round: the answer named without "in" ("enhance your reply by…",
	// "group the letters of your answer…"), as BIPIA's train-split attacks
	// phrase it, in the eleven languages. ("in your code" and "your output"
	// were left out: answers to programming questions say them to the
	// asker.)
	"your reply", "your response", "your answer",
	"in deiner antwort", "ihre antwort", "ta reponse", "votre reponse", "su respuesta",
	"tua resposta", "a sua resposta", "tua risposta", "vostra risposta", "ваш ответ", "свой ответ", "в ответе",
	"回答中", "回复中", "你的回复", "回答の中で", "回答では", "إجابتك", "ردك", "अपने उत्तर", "आपके उत्तर", "अपने जवाब",
}
