"""Word lists for name detection.

NON_NAME_WORDS: words that never occur in a person's name on a staff page (roles, units, subjects,
navigation and page furniture, German and English). One of them anywhere in a line rejects it.

FIRST_NAMES: common given names (casefolded, as written and ASCII-folded), a confidence signal only:
absence never rejects a name; it matters for isolated photo/name pairs without other evidence and to
break ties between two name-like lines.
"""

from __future__ import annotations

import unicodedata

NON_NAME_WORDS = frozenset(
    """
gmbh ag kg ohg inc ltd llc plc corp co e.v. ev stiftung foundation verlag gesellschaft verein verband
ministerium ministry bundesministerium agency agentur akademie fraunhofer helmholtz leibniz max-planck
mitarbeiter mitarbeiterin mitarbeiterinnen mitarbeitende wissenschaftliche wissenschaftlicher
wissenschaftlichen akademischer akademische akademischen sekretariat sekretärin sekretär sachbearbeiter
sachbearbeiterin verwaltung technik techniker technikerin hilfskraft hilfskräfte hiwi hiwis studentische
studentischer doktorand doktoranden doktorandin doktorandinnen promovierende postdoc postdocs professur
professuren lehrstuhl lehrstuhls lehrstuhlinhaber lehrstuhlinhaberin leitung leiter leiterin institut
institute instituts fakultät fachbereich fachgebiet abteilung arbeitsgruppe arbeitsgruppen gruppe team
teams kontakt kontakte ansprechpartner ansprechpartnerin ansprechpersonen ehemalige ehemaliger alumni
gäste gastwissenschaftler emeriti personal personen person people staff mitglieder members member
universität university universitat hochschule college school department center centre zentrum lab labs
labor laboratory group chair faculty office büro raum room telefon tel phone fax e-mail email mail
adresse address anschrift sprechstunde sprechstunden sprechzeiten sprechzeit hours termine vereinbarung
startseite home homepage website webseite profil profile details mehr more weiter weiterlesen zurück
contact contacts view read bio biography cv vita follow join visit javascript protected server servers cluster equipment
experience scientific education awards honors honours interests employment professional associations association memberships affiliations investigator investigators principal imaging medical medicine neuroimaging
next previous impressum datenschutz kontaktformular login logout suche search menü menu navigation
sitemap news aktuelles neuigkeiten veranstaltungen events jobs stellen stellenangebote karriere lehre
teaching forschung research projekte projects projekt project publikationen publications
veröffentlichungen vorträge talks studium studies studiengang kurse courses vorlesung lecture lectures
seminar seminare übung prüfung prüfungen bibliothek library informatik mathematik physik chemie biologie
maschinenbau germanistik linguistik literatur literaturwissenschaft sprachwissenschaft wirtschaft
wirtschaftswissenschaften volkswirtschaftslehre betriebswirtschaftslehre economics engineering science
sciences computer computing systems software data machine learning intelligence artificial informatics
mechanics mechanik technology technologie management marketing finance finanzen innovation theory
theorie analysis analyse design robotics robotik networks security sicherheit graphics grafik
datenbanken databases algorithms algorithmen mathematics statistics statistik and für for of the die im
am mit with our unser unsere unser ihr ihre your welcome willkommen über about uns wir we hier here
montag dienstag mittwoch donnerstag freitag samstag sonntag monday tuesday wednesday thursday friday
saturday sunday januar februar märz mai juni september oktober november dezember january february july
october december professor professorin professoren professors lecturer lecturers assistant assistants
assistenz associate associates researcher researchers fellow fellows student students phd candidate
candidates scientist scientists engineer engineers secretary secretaries administrator administration
director directors manager coordinator emeritus emerita visiting former intern interns postdoctoral
senior junior technical leader leaders oberrat direktor direktorin geschäftsführer geschäftsführerin
geschäftsstelle koordinator koordinatorin referent referentin beauftragte beauftragter vertretung
stellvertreter stellvertreterin stellvertretende dekan dekanin dekanat präsident präsidentin prodekan
sprecherin vorstand vorsitz vorsitzende kommission gremien foto photo bild image picture portrait
porträt portraits gallery galerie select selected selection studio studios company
erste zweite dritte vierte fünfte first second third fourth fifth
investigador investigadora investigadores investigación adjunto adjunta independiente asistente coordinador
coordinadora directora profesor profesora catedrático catedrática titular estudiante doctorando doctoranda
becario becaria posdoctoral pesquisador pesquisadora doutorando doutoranda aluno aluna bolsista chercheur
chercheuse doctorant doctorante ricercatore ricercatrice dottorando dottoranda assegnista tecnico técnico
técnica secretaria logo icon banner download pdf vcard kalender calendar übersicht
overview liste list alle all index a-z inhalt content hauptmenü anfahrt lageplan campus gebäude building
standort standorte location map karte straße strasse str allee gasse universitätsstraße tbd n.n. nn
vakant vacant offen aktuell current archiv archive print drucken share teilen copyright rights reserved
cookie cookies services service relations resources affairs program programme programm graduate
undergraduate doctoral international public digital digitale human social soziale angewandte applied
theoretical theoretische praktische practical experimental experimentelle allgemeine general deutsche
europäische european verbund cluster excellence exzellenz sfb graduiertenkolleg kolleg akademie academy
philosophie ökonomie energie architektur kultur struktur media medien communication optics optik
electronics elektronik quantum physics chemistry biology history geschichte arts humanities philology
philologie neueste neuester neuesten beiträge beitrag recent posts latest aktuelle aktueller letzte
quick links häufige fragen faq offene unsere willkommen kontaktieren impressions impressionen eindrücke
downloads termine anmeldung registration sprechzeiten öffnungszeiten opening angestellte angestellter
angestellten beschäftigte beschäftigter freie freier externe externer interne kaufmännische
kaufmännischer verwaltungsangestellte scholar scholars support it habilitand habilitandin habilitanden
lehrkraft lehrkräfte lektor lektorin lektoren dozent dozentin dozenten tutor tutorin tutoren
gastprofessor gastprofessorin mitarbeiterinnen wissenschaftlerin wissenschaftler nachwuchsgruppe
nachwuchsgruppenleiter nachwuchsgruppenleiterin gruppenleiter gruppenleiterin teamleiter teamleiterin
laboringenieur laboringenieurin ingenieur ingenieurin oberingenieur oberingenieurin systemadministrator
webmaster redaktion ansprechperson vorzimmer assistentin assistent sekretärinnen bibliothekarin
affiliated adjunct affiliate lecturer instructor instructors teaching emeriti retired staff faculty
abschlussarbeiten theses thesis dissertation dissertationen diplom kolloquium colloquium workshop
konferenz conference tagung award awards förderung funding drittmittel kooperation kooperationen partner
partners sponsoren netzwerk network career careers apply bewerbung posted author authors autor autoren alumnus alumna
""".split()
)

_RAW = """
aaron abdul abdullah abel abigail ada adam adele adelheid adrian adriana agata agathe agnes ahmad ahmed
ahmet aida aileen aisha alan alba albert alberto albrecht alejandro aleksandar aleksander aleksandra
alena alessandra alessandro alex alexa alexander alexandra alexandre alexei alexis alfons alfred alfredo
ali alice alicia alina aline alisa alison alma alois amanda amelie amina amir amira amy ana anastasia
andrea andreas andrei andrej andres andrew andrzej andré andy angela angelika angelina angelo anita anja
anke ann anna annabel annalena anne annegret anneliese annemarie annette anni annika anton antonia
antonio anya arash armin arne arnd arnold arthur arturo arvid asher ashley astrid aurelia aurélie ava
axel aylin ayse ayşe babette barbara bart bastian beate beatrice beatrix bela ben benedikt benjamin bennet
berit bernd bernadette bernhard bert berthold bettina bianca birgit birte björn bo bogdan boris brenda
brian brigitte britta bruno burak burkhard camilla carina carl carla carlo carlos carmen carolin carolina
caroline carsten catarina catherine cecilia cem cemal charles charlotte chen chiara chris christa
christian christiane christina christine christoph christopher claire clara claudia claudio claus
clemens colin conrad constanze cora cornelia corinna daniel daniela danielle daria david debora deborah
deniz dennis diana diego dieter dietmar dietrich dimitri dimitrios dirk dominik dominic dominique doris
dorothea dorothee dragan dunja ebru eckhard eckart edgar edith eduard eduardo edward egon ehsan eike
eileen ekaterina elena eleonora elias elif elisa elisabeth elise elke ella ellen elmar elsa emil emilia
emily emine emma emre enrico enrique erik erika erich ernst erwin esra esther eugen eva evelyn fabian
fabio fabienne fan farid farah fatih fatima fatma felix ferdinand fernando filip filippo finn florence
florian frank franka franz franziska fred frederik friederike friedrich frieda fritz gabi gabriel
gabriela gabriele georg george georgios gerald gerd gerda gerhard gernot gert gertrud gesa gilbert
gina giorgio giovanni gisela giulia giuseppe gottfried grace greta gregor gudrun guido gunnar gunter
günter günther gustav hakan hamid hana hanna hannah hannes hans hansjörg harald harry hartmut hasan
hassan hauke heidi heike heiko hein heiner heinrich heinz helen helena helene helga helmut hendrik
henning henri henrik henry herbert hermann hilde hildegard holger horst hubert hugo ibrahim ida ignacio
igor ilka ilona ilse imke ines inga inge ingo ingrid irene irina iris irmgard isa isabel isabell
isabella isabelle ivan ivana iwona jacob jakob james jan jana jane janet janina janine janis jannik
jaroslav jasmin jasmina javier jean jennifer jens jeremy jessica jiang jin joachim jochen joe johann
johanna johannes john jonas jonathan jordan jorge josef joseph josephine josé juan judith julia julian
juliane julius jun jörg jörn jürgen kai kamil karen karim karin karina karl karla karolina kaspar
katarina katarzyna kate katharina kathrin katja katrin kay kemal kenji kerstin kevin kim klara klaus
konrad konstantin kristin kristina kurt lara lars laura lea lena lennart leo leon leonard leonie lars
lia lian liam lili lilli lina linda lisa liu lorenz lorenzo lotte louis louisa luca lucas lucia lucie
ludwig luis luisa lukas luise lutz lydia magdalena maike maja malte malin manfred manuel manuela marc
marcel marco marcus mareike margarete margit maria mariam marian marianne marie marina mario marion
marius mark marko markus marlene marta martha martin martina mary mat mathias matteo matthias mattias
max maximilian maya mehmet mehdi meike melanie melike merle michael michaela michel michelle miguel
mika mike mila milan mina minh miriam mirko mohamed mohammad mohammed monika moritz murat mustafa nadia
nadine natalia natalie nathalie nele nicola nicolas nicole niklas niko nikolai nikolaus nils nina noah
nora norbert olaf oleg olga oliver olivia omar oskar otto pablo pamela paola pascal patricia patrick
paul paula pauline pavel pedro peer per peter petra philip philipp philippa pia pierre pietro piotr
rafael rahel rainer ralf ralph ramona raphael rebecca reinhard reinhold renate rene renata richard
rita robert roberto robin roland rolf roman ronja rosa rosemarie ruben rudi rudolf rüdiger ruth sabine
sabrina sahin samira samuel sandra sanja sara sarah sascha sebastian selin serena sergei sergej sergio
shirin silke silvia simon simone sina sofia sonja sophia sophie stefan stefanie steffen stella stephan
stephanie sven svenja swen sylvia tanja tatjana teresa thea theresa thilo thomas thorsten till tilman
tim timo tina tobias tom tomas tomasz tommaso torben torsten ulf ulla ulrich ulrike ursula ute uwe
valentin valentina valerie vanessa vera verena veronika victor victoria viktor viktoria vincent
vladimir volker walter waltraud wei wen werner wiebke wilhelm willi wolfgang xavier xiaoyu yan yang
yannick yasemin yasmin yi yu yusuf yvonne zeynep zoe zhang zhao zoltan
ahmed anil arjun amit anand anjali deepak divya ganesh gaurav kiran krishna lakshmi manoj meera neha
nikhil pooja pradeep prakash priya rahul raj rajesh ramesh ravi rohit sanjay shreya sunil suresh vijay
vikram hiroshi takashi yuki haruto kenta sakura min-jun seo-yeon ji-woo hyun jae minh anh linh thao
olumide chinedu ngozi kwame amara tunde wojciech krzysztof agnieszka malgorzata ewa jakub lukasz pawel
marek jiri petr tereza lucie zuzana dmitry natasha svetlana yulia andriy oksana mykola nikos eleni
ioannis konstantinos panagiotis giorgos mehmet emre burcu gizem oğuz selin tuba kaan can cansu
oleksandr oleksii olena iryna taras bohdan yaroslav volodymyr serhii dmytro yevhen viktoriia anastasiia
aleksei alexey andrey anton artem denis egor evgeny ilya kirill maxim mikhail nikita pavel roman ruslan
stanislav timur vadim vasily vitaly yuri anton ekaterina elena irina ksenia larisa ludmila marina nadezhda
polina tatiana valentina veronika yana zhanna milos nikola stefan marko luka ivan goran dusan zoran mirela
ana jelena ivana marija katarina tomislav kresimir bojan dejan vesna snezana radek ondrej lukas vojtech
martina veronika jana eva hana barbora zuzana peter juraj marek tibor laszlo gabor istvan zsofia katalin
aniko agnes bence mate levente dorottya mihai andrei alexandru cristian bogdan ioana elena raluca andreea
teodora georgi dimitar ivaylo nikolay maria desislava ahmet mehmet mustafa ali huseyin hasan ibrahim
ismail osman yusuf emre burak cem can deniz ege kerem onur serkan tolga volkan zeynep elif ayse fatma
emine hatice merve esra busra gamze ozlem seda pinar derya aylin gulsen songul hakan murat ozan umut
mohammad mohamed mahmoud khaled omar tariq karim samir nabil youssef amr hamza bilal faisal walid rami
ziad jamal nasser layla leila noor nour rania reem sara salma hoda dina yasmin fatemeh zahra maryam
hossein reza ali mohsen mehdi amin arash babak behnam dariush farhad hamed kaveh majid mehran navid
omid payam pouya saeed siamak soheil vahid parisa neda nasrin roya shirin sahar samaneh
wei wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he lin luo gao zheng liang xie
tang han feng deng cao peng zeng xiao tian dong pan yuan cai jiang yu du ye cheng su wei jun hao lei
jie jing juan lan ling mei min ming na ning ping qian qiang qing rong shan shu tao ting xia xiang xin
xiu yan ying yong yun zhen zhi zhong xiaoming xiaohong jianguo jianhua lihua yanping haiyan xiaoli
yifan yiming yuxuan zihan haoran jiawei jiayi junjie kaiyuan mingyu ruoxi shuai siyu tianyi weijie
xinyi xuan yilin yiran yue yuchen yuhan yuting zhiyuan zixuan ziyi hyun-woo ji-hoon min-seo seo-jun
jiwon minji soyeon jisoo hyejin eunji jihoon sungmin dongwook youngjae taehyun junho kyung hiroki
kazuki kenji koji makoto naoki ryo satoshi shinji shota takeshi taro yusuke yuta akiko ayumi emi
haruka kaori keiko mai mariko megumi miho naomi noriko rie saori tomoko yoko yui yumi aditya akash
akshay amitabh anirudh arun ashok bharat chandra dev dinesh gautam girish harish hemant jayant kamal
karthik kishore kumar mahesh manish mohan mukesh naveen nitin pankaj prasad rakesh ramesh sachin sandeep
sanjeev santosh satish shankar shashi shiv siddharth srinivas subramanian sudhir sumit suraj tarun
uday varun venkat vinay vivek yogesh aishwarya ananya anita anu aparna archana deepa gayatri geeta
harini indira jaya kavita kavya lakshmi lata madhuri meenakshi nandini nisha padma pallavi preeti
radha rekha ritu sapna savita shalini shanti shilpa shweta smita sneha sonia sunita swati uma usha
vandana vidya chidi emeka ifeoma kelechi nnamdi obinna uche adebayo ayodele babatunde folake funmi
kemi tolu yemi kofi kwesi akua ama abena esi yaw thabo sipho lindiwe nomsa themba zanele amani baraka
juma neema wanjiru kamau otieno achieng
joão josé antónio manuel francisco luís miguel paulo pedro rui tiago vasco beatriz catarina inês
joana mariana rita sofia teresa andrés fernando gonzalo jaime javier jesús julio raúl sergio vicente
alba cristina elena lucía marta nuria pilar rocío silvia adriano alessio andrea davide emanuele
federico gianluca lorenzo luca marco massimo matteo michele nicola paolo riccardo simone stefano
valerio alessia chiara federica francesca giulia ilaria martina roberta sara silvia valentina
"""


def _fold(s: str) -> str:
    s = s.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    return "".join(ch for ch in unicodedata.normalize("NFKD", s) if not unicodedata.combining(ch))


FIRST_NAMES = frozenset(w for word in _RAW.split() for w in (word, _fold(word)))


def is_known_first_name(token: str) -> bool:
    t = token.casefold().strip(".,")
    if t in FIRST_NAMES or _fold(t) in FIRST_NAMES:
        return True
    return any(part in FIRST_NAMES for part in t.split("-") if part)
