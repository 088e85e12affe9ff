import type { Attachment } from "./types.js";

/**
 * Job first: before a prompt is read as a chat task, is it asking for a job that is not an
 * answer in text? An image edit, a voiceover or a dub, a transcription, research that needs fresh
 * sources, or work for one of the specialised LLM modes (logs and performance, an edit timeline,
 * tagging a library). A job needs both an action ("remove the background", "read this aloud") and
 * its material (an image, a script, a recording); prompts that only talk about such things
 * ("explain how speech recognition works", "a poem about background noise") stay chat.
 */

export type JobName =
  | "backgroundRemoval"
  | "upscaling"
  | "styleTransfer"
  | "generativeFill"
  | "voiceover"
  | "dubbing"
  | "transcription"
  | "research"
  | "systemOptimizer"
  | "timelineEdit"
  | "assetTagging"
  | "clipSuggestions";

export interface JobMatch {
  name: JobName;
  /** The mode the job runs in (a key of config/modes.yaml). */
  mode: string;
  /** Why this is that job, for the decision's reason. */
  why: string;
  /** What the prompt gives the job's tool: an image path or URL, the script, a voice, a style... */
  found: Found;
}

export interface Found {
  file?: string;
  script?: string;
  voice?: string;
  style?: string;
  fill?: string;
  scale?: number;
  language?: string;
  recency?: "news" | "finance" | "deep" | "web";
}

// ---- What the prompt refers to -------------------------------------------------------------

const IMAGE_EXT = "png|jpe?g|webp|gif|bmp|tiff?|heic|avif|psd|svg";
const AUDIO_EXT = "mp3|wav|m4a|aac|flac|ogg|opus|wma|aiff?|amr";
const VIDEO_EXT = "mp4|mov|mkv|avi|webm|m4v|wmv|mxf";
const FILE_RE = new RegExp(
  // A path starts only where a run of path characters starts, and its last name character is matched
  // singly: linear in the prompt's length (the earlier form backtracked cubically on a long word).
  String.raw`https?:\/\/[^\s"'<>()]+|(?<![\w\-.~\/\\])(?:[A-Za-z]:\\|~\/|\.{1,2}\/|\/)?[\w\-.~\/\\]*?[\w\-]\.(?:${IMAGE_EXT}|${AUDIO_EXT}|${VIDEO_EXT})(?=[\s"'.,;:!?)\]]|$)`,
  "gi",
);
const FILE_HINT_RE = /\.[a-z]|:\/\//i;
const IMAGE_FILE_RE = new RegExp(String.raw`\.(?:${IMAGE_EXT})(?:\?|$)`, "i");
const SOUND_FILE_RE = new RegExp(String.raw`\.(?:${AUDIO_EXT}|${VIDEO_EXT})(?:\?|$)`, "i");

const IMAGE_WORDS =
  /\b(?:images?|photos?|photograph\w*|pictures?|pics?|shots?|screenshots?|selfies?|portraits?|headshots?|logos?|thumbnails?|banners?|posters?|product shots?|renders?|artwork|illustrations?|drawings?|scans?|textures?|sprites?|wallpapers?|icons?|graphics?|stickers?|mockups?|listing image|still image|stills|drone still|frame grab|camera|snapshots?|jpe?gs?|pngs?|foto|fotos|imagen|imágenes|imagem|imagens|bild|bilder|l'image|cette image|cette photo)\b/i;
const SOUND_WORDS =
  /\b(?:audio|recordings?|recorded|podcasts?|interviews?|voice memos?|voicemails?|voice notes?|phone calls?|calls?|meetings?|lectures?|sermons?|episodes?|webinars?|dictation|sound files?|voice track|soundtrack|narration|video|videos|clips?|footage|films?|movies?|vlogs?|youtube|reels?|tiktoks?|zoom|grabación|grabacion|entrevista|reunión|enregistrement|réunion|aufnahme|besprechung|gravação|gravacao|reunião|áudio|vídeo|vidéo)\b/i;

/** Asks about a thing rather than for it: explanation, history, advice, comparison. */
const ABOUT_START_RE =
  /^\s*(?:(?:hey|hi|so|ok|okay)[,!]?\s+)?(?:(?:can you |could you |please )?(?:explain|describe|tell me (?:about|how|why|what)|teach me)|how (?:does|do|did|is|are|was|were)\b(?! (?:i|we|you) (?:remove|get rid|cut|transcribe|upscale|make|record|dub|turn|convert|add|erase))|why (?:does|do|did|is|are|was|were)\b|what(?:'s|’s|s)? (?:a|an)\b|what (?:is|are|was|were|does|do|should|would)\b(?! (?:the )?(?:latest|newest|current|recent|status|news))|what(?:'s|’s|s) the (?:difference|best way|shortcut|point|meaning)|history of|(?:the )?difference between|compare\b|is it (?:possible|legal|ethical|ok|okay|better|worth)|should (?:i|we)\b|which (?:is|app|tool|software)\b)/i;
const ABOUT_ANY_RE =
  /\b(?:pros and cons|tips (?:for|on)|any tips|advice (?:for|on)|general advice|best practices|for my (?:thesis|essay|paper|report|lit review|literature review|class|homework)|is it better|which is better|should i use|what's the difference|recommend (?:a|an|some) (?:app|tool|software|mic|microphone|service))\b/i;
const WRITE_TEXT_RE =
  /^\s*(?:(?:can you|could you|please|pls|help me)\s+)?(?:write(?! (?:down|out) (?:everything|all|what|every))|draft|compose|rewrite|proofread|edit the copy)\b|\b(?:write|draft|compose|create|give me|come up with|brainstorm|suggest|generate)\b[^.?!\n]{0,40}\b(?:poem|haiku|song|lyrics|story|stories|essay|article|blog post|tweet|ideas|slogan|tagline|joke|limerick|script for|scripts?\b|screenplay|outline|email|letter|speech|names|headlines?|transcript|dialogue|conversation|roleplay|ticket|description|intro|paragraph|post|copy|bio|faq|readme|docs|captions? for (?:my|an?|our) (?:instagram|post|tweet|linkedin))\b/i;
const CODE_RE =
  /\b(?:python|javascript|typescript|java(?!\.)|c\+\+|c#|golang|rust|css|html|react|matplotlib|opencv|pillow|numpy|ffmpeg command|write a function|a function that|script that|regex|sql query|api endpoint|npm|pip install|in code|code (?:to|that))\b/i;
/** Asks for audio as output, whatever else it asks. */
const AUDIO_OUTPUT_RE = /\b(?:(?:record|generate|produce|render|export|synthesi[sz]e|voice|narrate)\w*\b[^.?!\n]{0,30}\b(?:it|this|that|audio|mp3|wav|voice-?over)|mp3|wav|audio (?:file|version|clip|track)|text[- ]to[- ]speech|tts|as audio)\b/i;

// ---- Actions --------------------------------------------------------------------------------

const BG = String.raw`(?:back\s?-?g?r(?:ou|o|u)n?d|bakground|backdrop|bg)`;
const REMOVE = String.raw`(?:remove|removing|removal of|remvoe|remoev|rmeove|remvove|rmv|cut\s*out|cutout|erase|delete|get rid of|take (?:out|off|away)|strip|drop|knock out|clear|clean up|blank out|lose|mask (?:out|off)|hide|ditch|kill|white out|blur out)`;
/** Determiners and adjectives between a verb and "background": "remove the busy white background". */
const DET = String.raw`(?:\s+(?:the|its|his|her|their|my|our|this|that|a|an|all|any|entire|whole|white|black|grey|gray|green|blue|busy|messy|plain|ugly|cluttered|original|current|existing|distracting|photo'?s|image'?s|picture'?s|FILE'?s?))*\s+`;
const BACKGROUND_RE = new RegExp(
  [
    String.raw`\b${REMOVE}${DET}${BG}\b`,
    String.raw`\b(?:make|let|have)\b[^.?!\n]{0,30}\b${BG}\b[^.?!\n]{0,20}\b(?:disappear|go away|vanish|invisible|transparent|white)\b`,
    String.raw`\b${REMOVE}\b[^.?!\n]{0,20}\b(?:everything|all|anything|stuff|the room|the wall|the scenery) (?:behind|around|else|but|except)\b|\b(?:none|nothing|no part) of the \w+ behind\b|\bwithout (?:the|any) (?:room|wall|scenery|surroundings) behind\b|\bpng with alpha\b`,
    String.raw`\b${BG}\s*(?:remov\w*|eras\w*|cut\w*|free|off)\b|\b(?:no|without(?: the| a| any)?|minus(?: the)?) ${BG}\b`,
    String.raw`\btransparen(?:t|te|cy)\b|\balpha (?:channel|background)\b`,
    String.raw`\b(?:clean|plain|pure|solid|seamless|simple) white ${BG}\b|\b(?:on|onto|with|to|against) (?:a |an )?white ${BG}\b`,
    String.raw`\b(?:isolate|cut out|cutout of|mask out|separate)\b[^.?!\n]{0,25}\b(?:subject|product|person|object|foreground|item)\b|\b(?:isolate|separate|cut out)\b[^.?!\n]{0,40}\bfrom (?:everything(?: else)?|the rest|its surroundings|the scene)\b|\bcutout\b`,
    String.raw`\b(?:erase|remove|delete|cut|get rid of) (?:everything|all) (?:except|but|apart from|other than)\b|\bkeep only the\b`,
    String.raw`\b(?:quita|quitar|quítale|elimina|eliminar|borra|borrar|saca|sacar)\b[^.?!\n]{0,15}\bfondo\b|\bsin (?:el |ningún )?fondo\b`,
    String.raw`\b(?:supprime|supprimer|enlève|enlever|retire|retirer|efface|effacer|détoure|détourer)\b|\bsans (?:le |l')?(?:fond|arrière-plan)\b|\barrière-plan\b[^.?!\n]{0,20}\b(?:supprim|enlev|retir|effac)\w*`,
    String.raw`\bhintergrund\b[^.?!\n]{0,25}\b(?:entfernen|entferne|freistellen|löschen|weg)\b|\b(?:entferne|lösche)\b[^.?!\n]{0,25}\bhintergrund\b|\bfreistell\w*|\bohne hintergrund\b`,
    String.raw`\b(?:remove|remover|tira|tirar|apaga|apagar)\b[^.?!\n]{0,15}\bfundo\b|\bsem (?:o )?fundo\b`,
  ].join("|"),
  "i",
);
const BACKGROUND_NOT_RE = /\bbackground (?:noise|music|sounds?|checks?|jobs?|process\w*|tasks?|threads?|workers?|colou?r (?:in|of) (?:css|html|matplotlib|the (?:page|website|terminal))|information|story|knowledge|reading)\b/i;

const UPSCALE_RE = new RegExp(
  [
    String.raw`\bupscal\w*|\bupsampl\w*|\bup-?res\b|\bsuper[- ]?resolution\b|\bsuperres\b`,
    String.raw`\b(?:increase|boost|raise|improve|enhance|double|quadruple|higher|more)\b[^.?!\n]{0,20}\bresolution\b|\bhigher[- ]res\w*|\bhi-?res\b|\bhigh[- ]res(?:olution)? (?:version|copy)\b`,
    String.raw`\b(?:make|get|turn|need)\w*\b[^.?!\n]{0,30}\b(?:bigger|larger|sharper|crisp|crisper|clearer|less blurry|print-?ready)\b`,
    String.raw`\b(?:bigger|larger)\b[^.?!\n]{0,40}\b(?:print|poster|billboard|keep (?:the )?detail|without losing)\b|\b(?:at|to) \d{3,5}\s?(?:px|pixels)(?: wide| tall)?\b`,
    String.raw`\b(?:enlarge|blow up|scale up|sharpen|unblur|deblur|de-?pixelate|restore detail|add detail)\b`,
    String.raw`\b(?:to|in|at|into) (?:4k|8k|uhd|full hd|1080p|2160p|\d{3,5}\s?x\s?\d{3,5})\b|\b[248]x\b(?! ?\d)|\b(?:2|4|8)(?:x| times) (?:larger|bigger|the (?:size|resolution))\b`,
    String.raw`\bhochskalier\w*|\baufl[öo]sung\b[^.?!\n]{0,20}\b(?:erhöhen|verbessern|vergrößern|hoch)\b|\baument\w*\b[^.?!\n]{0,10}\bresolu\w*|\bescal(?:a|ar)\b|\bagrandi\w*|\baugment\w*\b[^.?!\n]{0,10}\br[ée]solution\b|\bampliar\b`,
  ].join("|"),
  "i",
);

const STYLE_WORDS = String.raw`(?:paintings?|paint|watercolou?rs?|oil|sketch\w*|drawings?|cartoons?|anime|manga|pixel[- ]art|8-bit|16-bit|comic\w*|van gogh|monet|picasso|ghibli|pop[- ]art|impressionis\w*|expressionis\w*|cubis\w*|charcoal|pencil|pastel|mosaic|ukiyo-e|vintage|retro|noir|cyberpunk|steampunk|claymation|lego|3d render|vaporwave|art deco|art nouveau|renaissance|baroque|halftone|tableau|peinture|aquarelle|dessin|gemälde|aquarell|pintura|acuarela|desenho|dipinto|acquerello|olio|fumetto)`;
const STYLE_RE = new RegExp(
  [
    String.raw`\bstyle[- ]transfer\b|\brestyl\w*|\bstyli[sz]e\b|\bstylized? version\b`,
    String.raw`\b(?:make|turn|transform|convert|render|repaint|redraw|reimagine|change|apply|give|recreate|redo|transforme|convierte|verwandle|transforma|trasforma|rendi)\w*\b[^.?!\n]{0,60}\b(?:in the style of|like an?|look like|looks like|into an?|as an?|style|en|in|into|como|wie|em)\b[^.?!\n]{0,40}\b${STYLE_WORDS}\b`,
    String.raw`\b${STYLE_WORDS}[- ](?:look|style|effect|filter|vibe|aesthetic|feel|version)\b`,
    String.raw`\b(?:in the style of|à la manière de|façon|im stil von|al estilo de|no estilo de|nello stile di|stile)\b`,
  ].join("|"),
  "i",
);

const FILL_RE = new RegExp(
  [
    String.raw`\b(?:in|out)-?paint\w*|\bgenerative (?:fill|expand)\b|\bcontent[- ]aware fill\b|\bpatch (?:up |in )?(?:the |that )?(?:sky|hole|gap|area|spot|background|wall|it)\b|\bclone (?:out|stamp)\b|\bpaint (?:out|over)\b|\bheal\w* brush\b`,
    String.raw`\b(?:extend|expand|widen|stretch)\b[^.?!\n]{0,25}\b(?:canvas|image|photo|picture|FILE|background|sky|edges?|frame|borders?|sides?|scene|it)\b|\buncrop\b|\b(?:wider|taller)\b`,
    String.raw`\bfill (?:in )?(?:the |this |that |it )?(?:gap|gaps|hole|empty|missing|blank|masked|transparent|area|region|space|corner|rest|sky|sand|wall)`,
    String.raw`\breplace\b[^.?!\n]{0,40}\b(?:with|by)\b|\bswap (?:out )?the\b[^.?!\n]{0,30}\bfor\b`,
    String.raw`\b(?:remove|erase|delete|get rid of|take out|clean up|edit out|photoshop out)\b[^.?!\n]{0,30}\b(?:person|people|tourists?|man|woman|guy|girl|kid|car|cars|objects?|watermark|text|power ?lines?|wires?|cables?|trash|bins?|signs?|poles?|photobomber|stranger|shadows?|blemish\w*|scratch\w*|reflections?|crowd|it)\b`,
    String.raw`\b(?:add|put|place|insert)\b[^.?!\n]{0,40}\b(?:to|into|in|on|onto)\b (?:the|this|my|that|his|her|its) (?:[\w-]+ )?(?:photo|image|picture|pic|shot|background|scene|sky|FILE|head|table|wall|sofa|couch|room|beach|street)\b`,
    String.raw`\b(?:get rid of|remove|erase|delete|take out|edit out)\b (?:him|her|them)\b|\bphotobomb\w*|\bretouch\w*|\bretusch\w*|\bwegretusch\w*|\bretoque\w*|\bretocar\b|\britocc\w*`,
    String.raw`\b(?:add|put|place|insert)\b[^.?!\n]{0,60}\b(?:in|on|into|to|onto) FILE\b|\bFILE\b[^.?!\n]{0,20}\b(?:add|put|place|insert)\b`,
    String.raw`\brellen\w*|\bremplir\b|\bauff[üu]ll\w*|\bpreench\w*|\b(?:ajoute|ajouter|ajoutez|añade|añadir|agrega|agregar|adicione|adicionar|coloca|colocar)\b|\bf[üu]ge?\b[^.?!\n]{0,40}\bhinzu\b`,
  ].join("|"),
  "i",
);

const VOICEOVER_RE = new RegExp(
  [
    String.raw`\bvoice[- ]?overs?\b|\btext[- ]to[- ]speech\b|\btts\b|\bspeech synthesis\b|\bsynthesi[sz]e\w* (?:speech|voice|audio|it)\b`,
    String.raw`\b(?:read|say|speak|narrate)\b[^.?!\n]{0,40}\b(?:aloud|out loud)\b`,
    String.raw`\b(?:record|generate|produce|create|make|render|give me|export|need|want|have|add)\w*\b[^.?!\n]{0,40}\b(?:narration|narrated|voiceover|audio version|audio file|audio track|audio clip|spoken version|spoken audio|spoken narration|mp3|wav|speech|voice track|voice clip|audiobook|voice recording)\b|\bas (?:audio|an? (?:mp3|audio file|voice-?over))\b|\bnarrat\w* (?:track|audio)\b`,
    String.raw`\bvoice (?:lines?|prompts?|clip|message|greeting)\b|\b(?:ivr|phone menu|voicemail greeting|on-?hold message)\b|\b(?:grava|graba|registra|enregistre|nimm)\w*\b[^.?!\n]{0,20}\b(?:áudio|audio|voz|voce|voix|narra\w*|locu\w*)\b|\bnarrando\b|\bvoce fuori campo\b`,
    String.raw`\bnarrate\b|\b(?:turn|convert)\b[^.?!\n]{0,40}\b(?:to|into)\b (?:speech|audio|spoken|an? (?:audio|mp3|voice|podcast))\b`,
    String.raw`\b(?:in|with|using) (?:a|an|the) [\w ,'-]{0,40}\bvoice\b|\bvoice (?:saying|that says|reading|to say|speaking)\b|\b(?:guy|girl|lady|man|woman|kid|child|narrator)(?:'s)? voice\b|\bvoice (?:this|it|the following|my|our|these|that)\b`,
    String.raw`\blocuci[óo]n\b|\b(?:lee|leer|lea|léelo)\b[^.?!\n]{0,20}\ben voz alta\b|\bvoix[- ]off\b|\b(?:lis|lire|lisez)\b[^.?!\n]{0,20}\bà voix haute\b|\bvorlesen\b|\bvorgelesen\b|\bsprachaufnahme\b|\bsprich\b[^.?!\n]{0,40}\bein\b|\beinsprechen\b|\bnarra[çc][ãa]o\b|\bnarración\b|\b(?:leia|ler)\b[^.?!\n]{0,20}\bem voz alta\b|\bsynth[eè]se vocale\b|\bsprachausgabe\b|\bgrava(?:r|ção)\b[^.?!\n]{0,20}\b(?:voz|narração)\b`,
  ].join("|"),
  "i",
);
const VO_RE = /\bVOs?\b/;

const DUB_RE = /\b(?:dub|dubs|dubbed|dubbing|doblaje|dobla\w*|doublage|synchronis\w*|dublagem|dubla\w*|re-?voice\w*)\b|\blocali[sz]e\b[^.?!\n]{0,40}\b(?:voice|audio|narration|voiceover|speech|spoken)\b/i;
const DOUBLER_RE = /\bdoubl(?:er|ez)\b|\bdouble (?:cette|ce|la|le|les|mon|ma|mes)\b/i;
const LANGS = String.raw`(?:brazilian portuguese|european portuguese|latin american spanish|english|spanish|french|german|italian|portuguese|japanese|chinese|mandarin|cantonese|korean|hindi|arabic|russian|dutch|polish|turkish|swedish|norwegian|danish|finnish|greek|hebrew|indonesian|vietnamese|thai|ukrainian|czech|español|inglés|francés|alemán|italiano|portugués|japonés|chino|français|anglais|espagnol|allemand|italien|portugais|japonais|chinois|deutsch|englisch|spanisch|französisch|italienisch|portugiesisch|japanisch|inglês|espanhol|francês|alemão|português)`;
const LANGUAGE_RE = new RegExp(String.raw`\b(?:in|into|to|al|a|en|auf|ins|para(?: o)?|em|in das)\s+(?:el |le |l'|das |o |a )?(${LANGS})\b`, "i");

const TRANSCRIBE_RE = new RegExp(
  [
    String.raw`\btranscri(?:be|bed|bes|bing|ption|ptions)\b|\btra\w{0,3}cri\w*|\btranscirb\w*|\bspeech[- ]to[- ]text\b|\bstt\b|\b(?:verbatim|full|written|word-for-word|complete) transcripts?\b|\ba transcript (?:of|from)\b`,
    String.raw`\b(?:subtitles?|captions?|closed captions|srt|vtt)\b`,
    String.raw`\b(?:turn|convert|put|change)\b[^.?!\n]{0,40}\b(?:into|to) (?:text|words|a transcript|writing|a document)\b|(?:->|→|=>)\s*(?:text|txt|transcript)\b`,
    String.raw`\b(?:write|type|jot|take) (?:down|out) (?:everything|all|what|every word)\b|\bwhat(?:'s|s| is| was)? (?:being )?said\b|\btext version\b|\bin (?:text|writing)\b|\bword[- ]for[- ]word\b|\bverbatim\b|\beverything (?:that's |that is |that was |they |he |she )?(?:said|says)\b|\b(?:text|words) of what\b|\bwhat (?:they|he|she|the speakers?|people)(?:'re| are|'s| is| were| was)? (?:saying|say|said)\b`,
    String.raw`\btranscri(?:re|s|vez|ção|cao|pción|pcion|ba|bir|ver)\b|\btranscrev\w*|\bsubt[ií]tul\w*|\bsous-titr\w*|\buntertitel\w*|\btranskri\w*|\blegenda\w*|\bverschriftlich\w*|\babschrift\b`,
  ].join("|"),
  "i",
);
/** Work on a transcript someone already has: summarise, translate, clean it up. That is chat. */
const GIVEN_TRANSCRIPT_RE = /\b(?:below is|here(?:'s| is)|following is|this is|the following)\b[^.?!\n]{0,30}\btranscript\b|\b(?:fix|summari[sz]e|pull out|extract|translate|clean|proofread|edit|rewrite|analy[sz]e|find|typos?)\b[^.?!\n]{0,40}\btranscript\b|\b(?:summari[sz]e|translate|analy[sz]e|proofread|clean up|edit|fix|review|shorten|format|improve)\b[^.?!\n]{0,30}\b(?:this|the|my|following|attached) (?:transcript|captions?|subtitles?)\b|\btranscript\s*:\s*\S/i;

/** Something current: the answer changes with time. */
const FRESH_RE =
  /\b(?:latest|newest|most recent|recent(?:ly)? (?:papers|studies|articles|research|news|developments|results|releases|benchmarks|reports|changes|updates|published)|current (?:events|news|status|state|prices?|rates?|exchange rate|version|weather|situation|standings|scores?|leader|ceo|president|holder|record|travel advisories|advisories|market|trends|applications|affairs|odds|polls?|rankings?|guidance|regulations?|law|rules)|today's|tonight|yesterday's|last night|this (?:week|month|year|morning|quarter|season)(?:'s)?|up[- ]to[- ]date|breaking|real[- ]time|right now|as of (?:today|now|this)|still (?:ongoing|happening|down|going on)|(?:in|over|from|during) the (?:last|past) (?:\d+ |few |couple of )?(?:days?|weeks?|months?|hours?)|derni(?:er|ère)s?|ce mois-ci|cette semaine|aujourd'hui|actuel\w*|últim[oa]s|este mes|esta semana|hoy|aktuell\w*|neueste\w*|diese woche|heute|ultim[ie]|questa settimana|oggi|attual\w*|atual\w*|hoje|este mês|just (?:announced|released|launched|happened)|upcoming|forecast for)\b/i;
/** A retrieval verb or a question: something to look up. */
const LOOKUP_RE =
  /\b(?:look (?:up|for|into)|check|find|search|research|compile|gather|collect|pull|dig up|get me|fetch|browse|monitor|track|find out|see (?:if|whether|what)|need|tell me|give me|show me|list|compare|how much|price|cost|quels?|quelles?|qu[ée]|cu[áa]l\w*|cu[áa]nto|was kostet|wie viel|quanto|quais)\b|^\s*(?:who|what|when|where|which|is|are|did|does|has|have|will|how (?:much|many))\b|^[^\n]{0,200}\?\s*$/i;
/** A word problem or an exam item: its "this week" or "currently" is part of the puzzle, not the news. */
const PUZZLE_RE = /\b(?:how (?:many|much|long|old|far)|what (?:is|was) the (?:total|sum|average|difference|probability)|calculate|solve)\b/i;
const isPuzzle = (text: string) => PUZZLE_RE.test(text) && (text.match(/\d+/g)?.length ?? 0) >= 2;
const WEB_RE =
  /\b(?:search|browse|scour|check|look (?:it |this )?up) (?:on )?(?:the )?(?:web|internet|online|news|google)\b|\bweb search\b|\bgoogle (?:it|for|this)\b|\b(?:headlines|news) (?:in|about|on|from|for)\b|\b(?:online|web) sources\b|\bwith (?:sources|links|citations) (?:and|from)\b|\b(?:cite|with) (?:the )?(?:sources|links|urls)\b|\bstatus pages?\b|\bnews (?:about|on|coverage)\b|\bany news\b|\b(?:últimas noticias|noticias|dernières nouvelles|actualités|aktuelle nachrichten|nachrichten|últimas notícias|notícias)\b/i;

const LOG_LINE_RE =
  /^\s*(?:\[?\d{4}-\d{2}-\d{2}[T ][\d:.]+\S*\]?|\[?\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\]?|\w{3} +\d+ \d{2}:\d{2}:\d{2})\s.*|^.*\b(?:ERROR|WARN(?:ING)?|INFO|DEBUG|FATAL|TRACE|CRITICAL)\b[\s:\]].*$/gm;
const PERF_RE = new RegExp(
  [
    String.raw`\bp(?:50|75|90|95|99|999)\b|\btail latenc\w*|\blatency\b[^.?!\n]{0,30}\b(?:regress\w*|spike\w*|jump\w*|went up|increase\w*|doubled|tripled|degrad\w*|creep\w*|high|bad)\b|\b(?:regress\w*|spike\w*|increase\w*|jump\w*) in (?:latency|response times?|p99|memory|cpu)\b|\bresponse times? (?:went|go|are|is|have|has|jumped|doubled|spiked)\b`,
    String.raw`\bmemory (?:leak\w*|growth|bloat|usage (?:keeps|grows|climb\w*))|\bleak(?:s|ing)? memory\b|\bheap (?:growth|dump|usage|snapshot|space)\b|\bout ?of ?memory\w*|\boom[- ]?kill\w*|\bgc (?:pauses?|overhead)\b|\bgarbage collect\w* (?:pauses?|pressure)\b|\bmemory keeps\b|\brss (?:keeps|grows)\b`,
    String.raw`\bcpu (?:spike\w*|usage|saturat\w*|at 100|pegged|throttl\w*)\b|\bthroughput (?:drop\w*|regress\w*|fell)\b|\bslow (?:quer(?:y|ies)|endpoints?|requests|responses|startup|page loads?)\b|\bflame ?graphs?\b|\bprofil(?:e|er|ing) (?:output|results|data|shows)\b|\b(?:performance|latency|speed|startup|cold[- ]start|throughput) regression\b|\bregressed\b|\bcold starts?\b|\b(?:got|became|is|are|gets) slower\b|\bslowed down\b|\bslowdown\b|\bbenchmark (?:output|results)\b|\bN\+1 (?:quer\w*|problem|select\w*|issue)|\bdeadlock\w*|\bconnection pool (?:exhaust\w*|starv\w*)\b|\bCrashLoopBackOff\b|\bthread dump\b`,
    String.raw`\b(?:anali\w*|analy\w*|revis\w*|prüf\w*|examin\w*|go through|read|scan|look (?:at|through)|check|make sense of|triage|parse|grep|sift through|summari[sz]e|explain)\b[^.?!\n]{0,30}\b(?:these |this |the |our |my |those )?(?:logs?|log files?|log lines|log output|log excerpts?|traces?|trace spans|access logs|error logs|syslog|journalctl output)\b|\b(?:logs?|traces?) (?:keep |keeps )?(?:show|showing|say|saying|are full|full of|filled with|reveal)\b|\b(?:kubectl|docker|journalctl|systemd|nginx|apache|pod) logs?\b|\b(?:trace spans?|spans per request|apm|jaeger|zipkin|datadog|new relic|grafana|opentelemetry|otel)\b|\btraces? show\b`,
  ].join("|"),
  "i",
);

const TIMELINE_RE = new RegExp(
  [
    String.raw`\b(?:on|in|to|from) (?:the|my|this|our) (?:edit(?:ing)? )?timeline\b|\btimeline (?:edit\w*|markers?|tracks?|gaps?|clips?)\b|\bedit (?:timeline|decision list)\b|\bedl\b|\bripple[- ]delete\b|\bdip[- ]to[- ](?:black|white)\b|\bmulti-?cam\b|\b[AB][- ]cam\b|\b(?:premiere|resolve|fcp|final cut) (?:sequence|project|timeline)\b|\bcut (?:it )?down to (?:a )?\d+\s?(?:s|sec|seconds|second)\b|\bfondu\w*|\bfundido\w*|\büberblend\w*|\bdissolvenz\w*|\bl[íi]nea de tiempo\b|\bzeitleiste\b|\bligne temporelle\b|\blinha do tempo\b`,
    String.raw`\b(?:premiere pro|final cut(?: pro)?|davinci(?: resolve)?|capcut|avid|imovie|vegas pro)\b[^.?!\n]{0,60}\b(?:cut|trim|edit|export|render|timeline|sequence|clips?|project)\b|\b(?:cut|trim|edit|export|render|timeline|sequence|clips?)\b[^.?!\n]{0,60}\b(?:premiere pro|final cut(?: pro)?|davinci(?: resolve)?|capcut|imovie)\b`,
    String.raw`\b(?:reorder|rearrange|swap|shuffle)\b[^.?!\n]{0,20}\b(?:scenes|shots|clips)\b`,
    String.raw`\b(?:trim|cut|split|ripple[- ]delete|reorder|rearrange|move|shorten|tighten|extend|slip|slide|nudge|sync|corta|cortar|coupe|schneide)\w*\b[^.?!\n]{0,50}\b(?:clips?|b-?roll|a-?roll|title card|lower thirds?|footage)\b`,
    String.raw`\b(?:clip|shot|scene|track) \d+\b|\b\d{1,2}:\d{2}(?::\d{2})?\b[^.?!\n]{0,40}\b(?:clip|cut|scene|shot|transition|frame)\b|\b(?:clip|cut|scene|shot|transition)\b[^.?!\n]{0,40}\b\d{1,2}:\d{2}\b`,
    String.raw`\b(?:jump cuts?|[jl][- ]?cuts?|cross-?dissolves?|cross-?fades?|transitions? between (?:the )?(?:clips|shots|scenes)|keyframes? (?:on|for|in) the|title cards?|lower thirds?|video track|audio track \d|playhead|in-?point|out-?point)\b`,
  ].join("|"),
  "i",
);
const TRACK_RE = /\b[VA][1-9]\b/;
const NOT_TIMELINE_RE = /\btimeline (?:of|for (?:the|a|our|my) (?:project|launch|release|roadmap|wedding|trip))\b|\bproject timeline\b|\b(?:screenplay|novel|story|chapter)\b/i;

const TAGGING_RE = new RegExp(
  [
    String.raw`\b(?:tag|tags|tagged|tagging|label|labels|labell?ing|categori[sz]\w*|classify|keyword\w*|metadata|etiquet\w*|étiquet\w*|verschlagwort\w*|kategorisier\w*)\b[^.?!\n]{0,60}\b(?:all|every|each|thousands|hundreds|\d[\d,.]{2,}|batch|bulk|whole|entire|todas|todos|toda|todo|tous|toutes|alle|cada|chaque|jede\w*|tutt[ie]|ogni|our|my|the)\b[^.?!\n]{0,30}\b(?:library|librar\w*|catalog\w*|archive|collection|dam|assets?|footage|b-?roll|biblioteca|bibliothèque|bibliothek|mediathek|archivo|acervo|videos?|images?|photos?|clips?|files?|one-shots?|samples?|items?|products?|imágenes|fotos|vídeos)\b`,
    String.raw`\b(?:tag|label|categori[sz]\w*|classify|sort|keyword)\w*\b (?:them|these|those|it) all\b|\ball of them\b[^.?!\n]{0,30}\b(?:tag|label|categori)`,
    String.raw`\b(?:all|every|each|thousands of|hundreds of|\d[\d,.]{2,}|todas las|todos los|tous les|toutes les|alle)\b[^.?!\n]{0,40}\b(?:tag|tags|label|labels|categori[sz]\w*|classify|keyword\w*|metadata|etiquet\w*|étiquet\w*|verschlagwort\w*)\b`,
    String.raw`\b(?:auto-?tag\w*|auto-?label\w*|asset tagging|metadata tagging|bulk[- ]tag\w*|batch[- ]tag\w*|taxonomy labels?)\b`,
  ].join("|"),
  "i",
);
/** Highlights to cut from footage or a recording: suggested clips. */
const CLIPS_RE =
  /\b(?:suggest|find|pick|pull|select|identify|extract|spot|surface|recommend)\w*\b[^.?!\n]{0,40}\b(?:clips?|highlights?|moments?|shorts|reels?|soundbites?|sound bites?|quotable (?:bits|moments))\b[^.?!\n]{0,60}\b(?:from|in|of|out of)\b[^.?!\n]{0,40}\b(?:footage|video|videos|podcast|episode|stream|livestream|recording|interview|webinar|transcript|vod|FILE)\b/i;
const LIBRARY_RE = /\b(?:images?|photos?|pictures?|assets?|clips?|videos?|files|footage|b-?roll|library|catalog(?:ue)?|archive|collection|dam|media|imágenes|fotos|catálogo|bilder|vidéos|photos|biblioteca|bibliothèque|bibliothek|mediathek|vídeos)\b/i;
const DAM_RE = /\bDAM\b/;

// ---- Detection ------------------------------------------------------------------------------

export function detectJob(text: string, attachments: Attachment[] = []): JobMatch | undefined {
  // A file name ends in a dot and a letter (every extension starts with one), a URL has "://".
  const files = FILE_HINT_RE.test(text) ? (text.match(FILE_RE) ?? []).map((f) => f.replace(/[.,;:]+$/, "")) : [];
  // Actions are read with file names and URLs folded to one word, so their dots do not end a phrase.
  const plain = files.length ? text.replace(FILE_RE, "FILE") : text;
  // An exam item or a word problem answers in text, whatever its story mentions.
  if (isExam(plain) || isPuzzle(plain)) return undefined;
  // Each check below is read only where its answer can still matter (every one is a pure test, so
  // the order changes no outcome): the material a voice or media job needs is not read for a prompt
  // that asks about something or is about code.
  const ask = instruction(plain);
  const about = ABOUT_START_RE.test(ask) || ABOUT_ANY_RE.test(ask);
  const writing = WRITE_TEXT_RE.test(ask);
  const code = CODE_RE.test(plain);
  const short = plain.length <= 600;
  if (about || code) return llmModeJob(plain, ask, short, about, writing, code);
  const kinds = new Set(attachments.map((a) => a.kind));
  const sound = files.find((f) => SOUND_FILE_RE.test(f)) ?? files.find((f) => /^https?:/i.test(f) && !IMAGE_FILE_RE.test(f));
  const hasSound = files.some((f) => SOUND_FILE_RE.test(f)) || kinds.has("audio") || kinds.has("video") || SOUND_WORDS.test(ask);
  const hasImage = () => files.some((f) => IMAGE_FILE_RE.test(f)) || kinds.has("image") || (IMAGE_WORDS.test(ask) && !NOT_AN_IMAGE_RE.test(ask));
  const image = () => files.find((f) => IMAGE_FILE_RE.test(f)) ?? files.find((f) => /^https?:/i.test(f) && !SOUND_FILE_RE.test(f));
  return (
    voiceJob(ask, hasSound, sound, writing) ??
    (writing ? undefined : mediaJob(ask, hasImage(), image())) ??
    llmModeJob(plain, ask, short, about, writing, code)
  );
}

const EXAM_RE = /(?:^|\n|\s)\(?A[.)]\s[\s\S]{1,400}(?:^|\n|\s)\(?B[.)]\s[\s\S]{1,400}(?:^|\n|\s)\(?C[.)]\s/;
/** Lettered options A, B, C; an option A ("A." or "A)") is looked for first, which spares most prompts the scan. */
const isExam = (text: string) => (text.includes("A.") || text.includes("A)")) && EXAM_RE.test(text);

/** Not a picture: container and disk images, an image of something in words. */
const NOT_AN_IMAGE_RE = /\b(?:docker|container|disk|base|iso|system|vm|brand|public|self|body|mirror|corporate|virtual|real) images?\b|\bimage of (?:a|the) (?:company|brand|person|city|country)\b|\b(?:mirror|lens|focal|refract\w*|formed by)\b/i;
/** Where a prompt gives material (an article, a passage, a review), the ask is what comes before it. */
const MATERIAL_RE = /\n\s*\n|\b(?:article|context|passage|text|review|document|bio|story|paragraph|question|input|data|code|transcript|email|options|choices|premise|hypothesis|sentence|title|summary|dialogue|conversation)\s*:/i;

/** The part of a prompt that asks: up to the material it gives, at most a few hundred characters. */
function instruction(text: string): string {
  // Material starts at a blank line or a label and its colon: without a newline or a colon there is none.
  const cut = text.includes("\n") || text.includes(":") ? MATERIAL_RE.exec(text) : null;
  const end = cut && cut.index > 8 ? cut.index : text.length;
  return text.slice(0, Math.min(end, 400));
}

/** Taking something out of a picture, in several languages; the background case is handled before. */
const OBJECT_REMOVAL_RE =
  /\b(?:remove|erase|delete|get rid of|take out|edit out|clean up|borra|borrar|quita|quitar|elimina|eliminar|saca|efface|effacer|enlève|enlever|supprime|retire|entfern\w*|lösch\w*|rimuovi|togli|cancella|apaga|tira|remova)\b/i;

function mediaJob(lead: string, hasImage: boolean, file: string | undefined): JobMatch | undefined {
  if (!hasImage) return undefined;
  const found: Found = file ? { file } : {};
  // Taking a person or an object out of a scene is a fill, even when the scene is "the background".
  const objectRemoval = /\b(?:remove|erase|delete|get rid of|take out|edit out)\b[^.?!\n]{0,40}\b(?:in|from) the background\b/i.test(lead);
  if (!objectRemoval && BACKGROUND_RE.test(lead) && !BACKGROUND_NOT_RE.test(lead)) {
    return { name: "backgroundRemoval", mode: "vision_editing", why: "it asks to remove an image's background", found };
  }
  if (STYLE_RE.test(lead)) {
    const style = /\b(?:in the style of|style of|like an?|look like an?|into an?|as an?|an?)\s+([^.,;:!?\n]{3,60}?)(?:\s+(?:look|style|effect|filter|vibe|version)\b|[.,;:!?\n]|$)/i.exec(lead)?.[1]?.trim();
    return { name: "styleTransfer", mode: "vision_editing", why: "it asks to restyle an image", found: { ...found, ...(style ? { style } : {}) } };
  }
  // Extending the frame is a fill even when it names a size.
  const outpaint = /\b(?:extend|expand|widen|stretch|uncrop|outpaint\w*)\b|\b(?:wider|taller)\b|\bfill in more\b/i.test(lead);
  if (!outpaint && UPSCALE_RE.test(lead) && !/\b(?:team|business|sales|restaurant|menu|brand|wardrobe)\b/i.test(lead)) {
    const scale = /\b([248])\s?(?:x|times)\b|\bx([248])\b/i.exec(lead);
    const s = scale ? Number(scale[1] ?? scale[2]) : undefined;
    return { name: "upscaling", mode: "vision_editing", why: "it asks to raise an image's resolution", found: { ...found, ...(s ? { scale: s } : {}) } };
  }
  if (objectRemoval || outpaint || FILL_RE.test(lead) || OBJECT_REMOVAL_RE.test(lead)) {
    const fill = /\b(?:with|by|fill (?:in )?(?:the )?[\w ]{0,20}? ?with)\s+(?:an?\s+|the\s+|some\s+)?([^.,;:!?\n]{3,60})/i.exec(lead)?.[1]?.trim();
    return { name: "generativeFill", mode: "vision_editing", why: "it asks to fill, extend or change part of an image", found: { ...found, ...(fill ? { fill } : {}) } };
  }
  return undefined;
}

function voiceJob(lead: string, hasSound: boolean, file: string | undefined, writing: boolean): JobMatch | undefined {
  // A dub needs the word (or French "doubler" with a language); the language is read only then.
  const dub = DUB_RE.test(lead);
  if (dub || DOUBLER_RE.test(lead)) {
    const language = LANGUAGE_RE.exec(lead)?.[1];
    if ((dub || language) && (hasSound || language)) {
      return { name: "dubbing", mode: "voice_generation", why: "it asks to dub speech into another language (translate, then voice)", found: { ...(file ? { file } : {}), ...(language ? { language } : {}) } };
    }
  }
  if (hasSound && !writing && TRANSCRIBE_RE.test(lead) && !GIVEN_TRANSCRIPT_RE.test(lead) && !VOICEOVER_RE.test(lead.slice(0, 60))) {
    return { name: "transcription", mode: "batch_transcription", why: "it asks for the words spoken in a recording", found: file ? { file } : {} };
  }
  // Writing a text someone will read is chat; a text to be spoken as audio is a voiceover.
  if ((VOICEOVER_RE.test(lead) || VO_RE.test(lead)) && (!writing || AUDIO_OUTPUT_RE.test(lead))) {
    const script = quotedOrAfterColon(lead);
    const voice = /\b((?:(?:warm|deep|calm|soft|energetic|friendly|professional|authoritative|young|old|older|mature|british|american|australian|irish|scottish|indian|raspy|cheerful|serious|neutral|gentle|excited|upbeat|dramatic|whispery|soothing|male|female|man's|woman's|child's|guy|girl|lady)[, ]+(?:and )?){1,4})(?:voice|narrator|speaker)\b/i.exec(lead)?.[1]?.trim();
    return { name: "voiceover", mode: "voice_generation", why: "it asks for text spoken aloud as audio", found: { ...(script ? { script } : {}), ...(voice ? { voice: voice.replace(/[, ]+$/, "") } : {}) } };
  }
  return undefined;
}

function llmModeJob(text: string, ask: string, short: boolean, about: boolean, writing: boolean, code: boolean): JobMatch | undefined {
  if (writing) return undefined;
  // Log lines count over the whole prompt; code with a traceback is debugging, not operations.
  // Each log line starts a line (^ in multiline mode): three need two line breaks.
  const logLines = code || !twoLineBreaks(text) ? 0 : (text.match(LOG_LINE_RE)?.length ?? 0);
  // "Why did p99 double?" is a diagnosis to run, not a concept to explain.
  const diagnosis = () => /^\s*why (?:did|does|do|is|are|would|has|have)\b/i.test(ask);
  if (logLines >= 3 || ((!about || diagnosis()) && PERF_RE.test(ask))) {
    return { name: "systemOptimizer", mode: "system_optimizer", why: logLines >= 3 ? "it gives log lines to analyse" : "it is about logs, traces or a performance regression", found: {} };
  }
  if (about) return undefined;
  if ((TIMELINE_RE.test(ask) || TRACK_RE.test(ask)) && !NOT_TIMELINE_RE.test(ask)) {
    return { name: "timelineEdit", mode: "timeline_doctor", why: "it is edit-timeline work", found: {} };
  }
  if (CLIPS_RE.test(ask)) {
    return { name: "clipSuggestions", mode: "auto_clip_suggestions", why: "it asks for clips worth cutting from footage or a recording", found: {} };
  }
  if (!code && (TAGGING_RE.test(ask) || (DAM_RE.test(ask) && /\b(?:tag|label|assign|categori)/i.test(ask))) && LIBRARY_RE.test(ask)) {
    return { name: "assetTagging", mode: "asset_tagging", why: "it asks to tag a library of assets", found: {} };
  }
  // (No word problem reaches this point: detectJob has ruled them out.)
  if (!code && short && (WEB_RE.test(ask) || (FRESH_RE.test(ask) && LOOKUP_RE.test(ask)))) {
    const recency = /\b(?:stocks?|shares|market|earnings|price of|prices|rates?|crypto|bitcoin|forex|nasdaq|s&p|dow|inflation|yields?)\b/i.test(ask)
      ? "finance"
      : /\b(?:news|headlines|breaking|happened|announce\w*|election|game|match|score|won|outage|meeting|launch\w*)\b/i.test(ask)
        ? "news"
        : /\b(?:in-depth|comprehensive|thorough|literature review|deep dive|systematic|sourced brief|report on)\b/i.test(ask)
          ? "deep"
          : "web";
    return { name: "research", mode: "research_analyst", why: "it needs fresh external sources", found: { recency } };
  }
  return undefined;
}

/** Whether the text has at least two line terminators (where `^` matches in multiline mode besides its start). */
function twoLineBreaks(text: string): boolean {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c === 10 || c === 13 || c === 0x2028 || c === 0x2029) && ++n === 2) return true;
  }
  return false;
}

function quotedOrAfterColon(text: string): string | undefined {
  const quoted = /["“«„]([^"”»“]{3,})["”»“]/.exec(text)?.[1];
  if (quoted) return quoted.trim();
  const colon = text.indexOf(":");
  if (colon > 0 && colon < text.length - 3) {
    const after = text.slice(colon + 1).trim();
    if (after.length >= 3 && after !== "FILE") return after;
  }
  return undefined;
}
