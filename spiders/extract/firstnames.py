"""Common given names (casefolded, ASCII-folded and as written) used as a confidence signal only.

Absence from this list never rejects a name on its own; it only matters for isolated photo/name
pairs that have no other evidence (no repetition, title, alt text or file name).
"""

from __future__ import annotations

import unicodedata

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
