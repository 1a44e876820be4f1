/**
 * Whole words and word pieces for the tiny WordPiece vocabulary, so typical English and technical
 * text gets realistic token counts (about one token per common word) instead of one per letter.
 * Hand-written; order does not matter (the vocabulary sorts and de-duplicates).
 */
const WORDS = `
the of and to a in is it you that he was for on are with as i his they be at one have this from or
had by not word but what some we can out other were all there when up use your how said an each she
which do their time if will way about many then them write would like so these her long make thing
see him two has look more day could go come did number sound no most people my over know water than
call first who may down side been now find any new work part take get place made live where after
back little only round man year came show every good me give our under name very through just form
sentence great think say help low line differ turn cause much mean before move right boy old too
same tell does set three want air well also play small end put home read hand port large spell add
even land here must big high such follow act why ask men change went light kind off need house
picture try us again animal point mother world near build self earth father head stand own page
should country found answer school grow study still learn plant cover food sun four between state
keep eye never last let thought city tree cross farm hard start might story saw far sea draw left
late run while press close night real life few north open seem together next white children begin
got walk example ease paper group always music those both mark often letter until mile river car
feet care second book carry took science eat room friend began idea fish mountain stop once base
hear horse cut sure watch color face wood main enough plain girl usual young ready above ever red
list though feel talk bird soon body dog family direct pose leave song measure door product black
short numeral class wind question happen complete ship area half rock order fire south problem piece
told knew pass since top whole king space heard best hour better true during hundred five remember
step early hold west ground interest reach fast verb sing listen six table travel less morning ten
simple several vowel toward war lay against pattern slow center love person money serve appear road
map rain rule govern pull cold notice voice unit power town fine certain fly fall lead cry dark
machine note wait plan figure star box noun field rest correct able pound done beauty drive stood
contain front teach week final gave green oh quick develop ocean warm free minute strong special
mind behind clear tail produce fact street inch multiply nothing course stay wheel full force blue
object decide surface deep moon island foot system busy test record boat common gold possible plane
stead dry wonder laugh thousand ago ran check game shape equate hot miss brought heat snow tire
bring yes distant fill east paint language among grand ball yet wave drop heart am present heavy
dance engine position arm wide sail material size vary settle speak weight general ice matter circle
pair include divide syllable felt perhaps pick sudden count square reason length represent art
subject region energy hunt probable bed brother egg ride cell believe fraction forest sit race
window store summer train sleep prove lone exercise wall catch mount wish sky board joy winter sat
written wild instrument kept glass grass cow job edge sign visit past soft fun bright gas weather
month million bear finish happy hope flower clothe strange gone jump baby eight village meet root
buy raise solve metal whether push seven paragraph third shall held hair describe cook floor either
result burn hill safe cat century consider type law bit coast copy phrase silent tall sand soil roll
temperature finger industry value fight lie beat excite natural view sense ear else quite broke case
middle kill son lake moment scale loud spring observe child straight consonant nation dictionary
milk speed method organ pay age section dress cloud surprise quiet stone tiny climb cool design poor
lot experiment bottom key iron single stick flat twenty skin smile crease hole trade melody trip
office receive row mouth exact symbol die least trouble shout except wrote seed tone join suggest
clean break lady yard rise bad blow oil blood touch grew cent mix team wire cost lost brown wear
garden equal sent choose fell fit flow fair bank collect save control decimal gentle woman captain
practice separate difficult doctor please protect noon whose locate ring character insect caught
period indicate radio spoke atom human history effect electric expect crop modern element hit
student corner party supply bone rail imagine provide agree thus capital chair danger fruit rich
thick soldier process operate guess necessary sharp wing create neighbor wash bat rather crowd corn
compare poem string bell depend meat rub tube famous dollar stream fear sight thin triangle planet
hurry chief colony clock mine tie enter major fresh search send yellow gun allow print dead spot
desert suit current lift rose continue block chart hat sell success company subtract event
particular deal swim term opposite wife shoe shoulder spread arrange camp invent cotton born
determine quart nine truck noise level chance gather shop stretch throw shine property column
molecule select wrong gray repeat require broad prepare salt nose plural anger claim continent
oxygen sugar death pretty skill women season solution magnet silver thank branch match suffix
especially fig afraid huge sister steel discuss forward similar guide experience score apple bought
led pitch coat mass card band rope slip win dream evening condition feed tool total basic smell
valley nor double seat arrive master track parent shore division sheet substance favor connect post
spend chord fat glad original share station dad bread charge proper bar offer segment slave duck
instant market degree populate chick dear enemy reply drink occur support speech nature range steam
motion path liquid log meant quotient teeth shell neck
data model models query queries document documents text search index indexes retrieval retrieve
answer answers context source sources chunk chunks token tokens embedding embeddings vector vectors
file files folder server client user users api request response error errors config configuration
option options value values default function functions class method methods return returns string
number array object type types input output inputs outputs test tests build run install version
update delete create read write load save store database table tables row rows column columns key
keys cache memory disk network time date log logs report reports score scores rank ranking rerank
train training trained fine tune tuning adapter adapters base prompt prompts generate generation
generator question questions label labels dataset datasets eval evaluation metric metrics feedback
schema format json yaml markdown html pdf csv code line lines page pages section sections title
summary content http https url path name names field fields item items list lists set sets map
account password login email support customer service product price order orders payment invoice
policy policies refund shipping delivery team project projects release releases feature features
issue issues bug bugs fix fixes change changes step steps guide guides docs documentation tutorial
example examples note notes warning warnings info debug level levels limit limits size sizes count
batch batches queue job jobs task tasks schedule event events message messages chat assistant
system systems process processes thread threads node nodes graph graphs layer layers weight weights
loss rate learning gradient gradients epoch epochs parameter parameters rank adapter
accuracy precision recall latency throughput benchmark benchmarks cpu gpu ram storage backup
security access permission permissions role roles admin token session sessions cookie header
open close start stop restart enable disable allow deny check verify validate parse serialize
hello hi thanks welcome sorry yes okay maybe today tomorrow yesterday week weeks months years
morning afternoon evening night minutes hours seconds days always usually sometimes never often
because however therefore although unless whether while within without across along around behind
below beside beyond inside outside onto upon via per vs etc including based using used uses usage
make makes making made take takes taking took give gives given giving get gets getting got keep
keeps kept show shows shown showing tell tells told ask asks asked asking need needs needed want
wants wanted try tries tried trying seem seems seemed help helps helped helping start starts started
starting stop stops stopped call calls called calling work works worked working runs running ran
home house office room building city country state world company business market money price cost
energy power battery batteries solar panel panels electricity sunlight heat light car cars road
health doctor patient medicine care hospital food water dinner lunch breakfast recipe recipes pasta
history story war king queen castle castles church science research study studies result results
paper papers article articles book books author authors news report law court rule rules government
school student students teacher class course lesson learn learned knowledge skill skills language
computer computers software hardware program programs programming developer developers engineer
engineering application applications app apps web website browser mobile phone cloud platform
service services tool tools library libraries framework package packages module modules plugin
repository repo branch commit merge pull push deploy deployment production staging environment
variable variables constant argument arguments command commands terminal shell script scripts
python javascript typescript java rust go sql postgres linux windows docker kubernetes
neural network networks transformer transformers attention encoder decoder language llm llms gpt
bert openai embedding similarity cosine distance nearest neighbor neighbors semantic
lexical keyword keywords hybrid fusion reciprocal relevance relevant irrelevant precision grounded
citation citations cite hallucination hallucinations fact facts accurate accuracy correct incorrect
augmented augment generation retrieval retriever reranker rerankers candidate candidates top
`

/** Word-final and word-internal pieces (stored without the `##` prefix, which is added for them). */
const SUFFIXES = `
s es ed d ing ly er ers est ion ions tion tions sion ment ments ness less ful able ible al ial ic
ical ity ty ive ous ious y ies ied ize ized izes ization ise ised ist ists ism ance ence ant ent ency
ate ated ates ating en ened ening ward wards like ship hood dom age ure ures th ry ory ary al ally
ically ure ings ly ers ors or ors ee ees ette ify ified fies let lets able ably ibility ability
`

/** Common words, lower-case; may repeat (the vocabulary builder de-duplicates). */
export const COMMON_WORDS: readonly string[] = WORDS.split(/\s+/).filter((w) => w.length > 0)

/** Common continuation pieces, without the `##` prefix. */
export const COMMON_SUFFIXES: readonly string[] = SUFFIXES.split(/\s+/).filter((w) => w.length > 0)
