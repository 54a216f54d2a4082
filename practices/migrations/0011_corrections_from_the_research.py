"""Corrections from the review of every record against the research in
shared/data (issue 15), for databases that already hold the catalogue: the
loader (practices.content) only adds missing records and never changes one.

A value is changed only where it is still the one shipped before, so nothing a
curator edited since is overwritten. Changed practices get a fresh search index,
and the catalogue version moves so no cached page keeps the old text.
"""

import uuid

from django.db import migrations
from django.db.models import F
from django.utils import timezone

from practices.search import refresh_search_index

# slug -> {field: (as shipped before, corrected)}; "countries" as ISO codes,
# "project" as a project slug, "source_titles" as [(url, before, corrected)];
# "new_sources" as [(url, title)] added where missing.
PRACTICES = {
    '4-motors-for-europe-business-passport': {
        'countries': (
            ['DE', 'ES', 'FR', 'IT'],
            ['DE'],
        ),
    },
    'call-for-non-exporting-and-non-regularly-exporting-businesses': {
        'new_sources': [
            ('https://imprese.regione.emilia-romagna.it/entra-in-regione/progetti-europei/eis', 'Emilia-Romagna Region page on the EIS project (Italian; the Region as a partner)'),
            ('http://modena2000.it/2019/03/11/progetto-compete-in-i-partner-europei-a-reggio-emilia-per-discutere-dinternazionalizzazione/', 'Modena2000 article on the COMPETE IN partners meeting in Reggio Emilia (press, Mar 2019; names ERVET)'),
        ],
        'description': (
            "Emilia-Romagna uses this call to raise the number of its firms that sell abroad on a regular basis and to give foreign trade a bigger weight in the regional GDP. It is financed through action 3.4.1 of the region's ERDF programme.\n\n- Who can apply: micro, small and medium firms that export rarely or not at all and have a turnover of EUR 700,000 or more, either on their own or grouped in a formal network.\n- What they propose: a two-year internationalisation path built on an export plan that targets no more than two countries.\n- Firms that have no export plan yet can count the work of writing one as a project cost.",
            "Emilia-Romagna uses this call to raise the number of its firms that sell abroad on a regular basis and to give foreign trade a bigger weight in the regional GDP. It is financed through action 3.4.1 of the region's ERDF programme.\n\n- Who can apply: micro, small and medium firms that export rarely or not at all and have a turnover of EUR 700,000 or more, either on their own or grouped in a formal network.\n- What they propose: a two-year internationalisation path built on an export plan that targets no more than two countries.\n- Firms that have no export plan yet can count the work of writing one as a project cost.\n\nWhich Interreg Europe project brought the call to other regions is not confirmed: EIS, in which the Region is a partner, or COMPETE IN, in which its agency ERVET took part.",
        ),
        'project': (
            None,
            'eis',
        ),
        'uncertain_fields': (
            ['level', 'institution', 'start_year', 'end_year', 'budget', 'resources', 'transfer'],
            ['level', 'institution', 'start_year', 'end_year', 'budget', 'resources', 'transfer', 'project'],
        ),
    },
    'expedire-economic-bridge-between-slovenia-and-austria': {
        'project': (
            'expedire-slovenia-austria',
            'interreg-slovenia-austria',
        ),
    },
    'incentive-to-the-internationalisation-of-smes-individual-projects': {
        'description': (
            "The incentive puts into practice Axis 2 of CRESC Algarve 2020, the Algarve's regional operational programme, and gives direct ERDF support to internationalisation projects of individual SMEs working in the region's RIS3 sectors.\n\nProjects can cover:\n- getting to know target markets, prospecting them and building a presence there;\n- a website and other digital presence;\n- promoting the firm's brand abroad and international marketing;\n- new organisational methods in the way the firm sells;\n- certifications that foreign markets ask for.\n\nEligible costs include changes to organisational methods, taking part in fairs and exhibitions abroad, and outside specialist consultancy. The practice was shown to INTRA partners during the project's study visit to Faro on 30-31 May 2018.",
            "The incentive puts into practice Axis 2 of CRESC Algarve 2020, the Algarve's regional operational programme, and gives direct ERDF support to internationalisation projects of individual SMEs working in the region's RIS3 sectors.\n\nProjects can cover:\n- getting to know target markets, prospecting them and building a presence there;\n- a website and other digital presence;\n- promoting the firm's brand abroad and international marketing;\n- new organisational methods in the way the firm sells;\n- certifications that foreign markets ask for.\n\nEligible costs include changes to organisational methods, taking part in fairs and exhibitions abroad, and outside specialist consultancy.",
        ),
        'evidence': (
            '',
            "- It is the way the Algarve's regional programme, CRESC Algarve 2020, delivers its Axis 2.\n- INTRA partners were shown it on their study visit to Faro, 30-31 May 2018.\n- The figures on its results could not be read in the archived source.",
        ),
        'uncertain_fields': (
            ['institution', 'transfer'],
            ['institution', 'transfer', 'evidence'],
        ),
    },
    'kent-international-business': {
        'description': (
            "Kent County Council (KCC) ran Kent International Business to help local SMEs sell in European markets; council committee minutes from January 2014 describe it as helping to fund trade visits by SMEs. The initiative also features in KCC's report on its international activities for 2010/11.\n\nA 'Kent International Business Study' from 2010 was later set against the 2017 study of Kent SMEs' internationalisation that KCC commissioned for the SIE project.",
            "Kent County Council (KCC) ran Kent International Business to help local SMEs sell in European markets.\n\nA 'Kent International Business Study' from 2010 was later set against the 2017 study of Kent SMEs' internationalisation that KCC commissioned for the SIE project.",
        ),
        'evidence': (
            '',
            "- Council committee minutes from January 2014 describe it as helping to fund trade visits by Kent SMEs to European markets.\n- It is listed in KCC's report on its international activities for 2010/11.",
        ),
        'source_titles': [
            (
                'https://www.interregeurope.eu/find-policy-solutions/policy-briefs/internationalisation-of-smes',
                "Interreg Europe Policy Learning Platform policy brief 'Internationalisation of SMEs' (our seed copy of its featured list names Kent International Business 14th)",
                "Interreg Europe Policy Learning Platform policy brief 'Internationalisation of SMEs' (featured practices list)",
            ),
        ],
        'uncertain_fields': (
            ['summary', 'description', 'level', 'project', 'instruments'],
            ['summary', 'description', 'level', 'project', 'instruments', 'evidence'],
        ),
    },
    'the-wakefield-first-bondholder-scheme': {
        'description': (
            "The scheme is a public-private partnership: member businesses, called bondholders, team up with the council to bring the two sides closer, accelerate local economic growth and raise Wakefield's profile in the UK and internationally through shared place marketing and branding.\n\nWakefield First is the council's service for business support and inward investment. When COMPETE IN partners visited Wakefield in June 2017, they spent a full day on the scheme: how membership works, its management structure and legal set-up, its history and its public relations, with a visit to Production Park, one of the member businesses.",
            "The scheme is a public-private partnership: member businesses, called bondholders, team up with the council to bring the two sides closer, accelerate local economic growth and raise Wakefield's profile in the UK and internationally through shared place marketing and branding.\n\nWakefield First is the council's service for business support and inward investment.",
        ),
        'evidence': (
            '',
            '- COMPETE IN partners gave a full day of their first study visit (Wakefield, June 2017) to the scheme: how membership works, its management and legal set-up, its history and public relations, with a visit to Production Park, a member business.\n- Reggio Emilia then held a workshop on it with Leeds Beckett University (May 2018), and by late 2018 the two were working together on a bondholder project (COMPETE IN newsletter no. 4).',
        ),
        'transfer': (
            'COMPETE IN partners studied the scheme during their first study visit (Wakefield, June 2017). Reggio Emilia then ran a workshop on the scheme with Leeds Beckett University in May 2018, and by late 2018 the two were working together on a bondholder project (COMPETE IN newsletter no. 4). This makes it a candidate for other cities that want business-led place promotion.',
            'A candidate for other cities that want business-led place promotion; Reggio Emilia has already taken the idea up (see the evidence).',
        ),
        'uncertain_fields': (
            ['level', 'institution', 'transfer', 'description'],
            ['level', 'institution', 'transfer', 'description', 'evidence'],
        ),
    },
    'xport-accelerator': {
        'description': (
            'AD Normandie (the Normandy Development Agency), CCI Normandie International and Business France joined forces in January 2018 to give companies one entry point for export support.\n\nHow it works:\n- the firm answers an online self-check of 12 questions;\n- an expert gets in touch within 3 days;\n- within 15 days, the expert and the firm agree a personalised roadmap covering 6 months to 2 years;\n- the roadmap combines training, coaching, matchmaking, consultancy and a hotline offered by the three partners.\n\nThe service costs nothing for companies that are starting or growing their international business. It is recorded as a good practice of the FFWD EUROPE project.',
            'AD Normandie (the Normandy Development Agency), CCI Normandie International and Business France joined forces in January 2018 to give companies one entry point for export support.\n\nHow it works: the firm starts with a short online self-check, then agrees a personalised roadmap with an expert; the roadmap combines training, coaching, matchmaking, consultancy and a hotline offered by the three partners.\n\nThe service costs nothing for companies that are starting or growing their international business. It is recorded as a good practice of the FFWD EUROPE project.',
        ),
        'evidence': (
            '',
            '- Its service standard: an expert contacts the firm within 3 days of its online self-check (12 questions).\n- Within 15 days, the firm and the expert agree a personalised roadmap covering 6 months to 2 years.',
        ),
        'uncertain_fields': (
            ['places'],
            ['places', 'evidence'],
        ),
    },
}

NEW_PROJECTS = [{
    'slug': 'interreg-slovenia-austria',
    'acronym': 'Interreg Slovenia-Austria',
    'name': 'INTERREG cooperation programme between Slovenia and Austria',
    'lead_partner': '',
    'start_year': None,
    'end_year': None,
    'url': '',
    'description': 'EU cross-border cooperation programme that co-funded Expedire, the export bridge between Styria, Carinthia and Slovenia.',
}]
# Projects that only stood for a practice itself; deleted once nothing uses them.
RETIRED_PROJECTS = ['expedire-slovenia-austria']

BRIEF = 'internationalisation-of-smes'
# anchor -> (body as shipped before, corrected)
SECTIONS = {
    'digitalisation-and-covid-19': (
        "The brief ends by considering what digitalisation and the Covid-19 crisis mean for SMEs that go abroad. The points below come from related Platform and project material.\n\n- Participants in the Platform's 20 May 2021 session found that the pandemic hit many firms hard, and that the least prepared were absorbed by survival and had no room to think about foreign markets.\n- The same session noted that the crisis revealed fragile links in certain global value chains. Part of that production could return to Europe and create openings for European SMEs, and concern for the climate impact of long supply chains could add to this trend.\n- The pandemic also sped up digitalisation, including in the way firms go international, as firms were forced to invent new ways of reaching their customers. Participants agreed that European SMEs need to become more digitally mature.\n- According to the Platform story 'SME exports in the pandemic', the COMPETE IN, EIS, SIE and UpGradeSME projects received permission to prolong their joint work and look into the pandemic's effect on SME exports and into the policy answers to it. Pannon Business Network, UpGradeSME's lead partner, ran an online exchange where survey results from partner regions were discussed; INTER VENTURES, which started in August 2019, also took part.\n- UpGradeSME saw three effects: shipping times and costs grew unpredictable, customers changed what and how they bought, and firms weighed local against global suppliers as sourcing close to home and greener supply chains drew more interest.\n- SIE's post-Covid comparative study (University of Kent, 2022) found digitalisation and new technology to be common drivers of exporting across its six regions, with red tape a key barrier.\n\nOnline services such as Spain's PASSPORT ABROAD show one way in which public support can follow firms onto digital channels.",
        "The brief ends by considering what digitalisation and the Covid-19 crisis mean for SMEs that go abroad. The points below come from related Platform and project material.\n\n- Participants in the Platform's 20 May 2021 session found that the pandemic hit many firms hard, and that the least prepared were absorbed by survival and had no room to think about foreign markets.\n- The same session noted that the crisis revealed fragile links in certain global value chains. Part of that production could return to Europe and create openings for European SMEs, and concern for the climate impact of long supply chains could add to this trend.\n- The pandemic also sped up digitalisation, including in the way firms go international, as firms were forced to invent new ways of reaching their customers. Participants agreed that European SMEs need to become more digitally mature.\n- According to the Platform story 'SME exports in the pandemic', the COMPETE IN, EIS, SIE and UpGradeSME projects received permission to prolong their joint work and look into the pandemic's effect on SME exports and into the policy answers to it. Pannon Business Network, UpGradeSME's lead partner, ran an online exchange where survey results from partner regions were discussed; INTER VENTURES, which started in August 2019, also took part.\n- UpGradeSME saw three effects: shipping times and costs grew unpredictable, customers changed what and how they bought, and firms weighed local against global suppliers as sourcing close to home and greener supply chains drew more interest.\n- SIE's post-Covid comparative study (University of Kent, 2022) found digitalisation and new technology to be common drivers of exporting across its six regions, with red tape a key barrier.\n\n*Practice Atlas's own remark, not the brief's:* online services such as Spain's PASSPORT ABROAD show one way in which public support can follow firms onto digital channels.",
    ),
    'grants-and-co-financing': (
        "The next five sections sort the brief's featured practices by the kind of support they give. This grouping is Practice Atlas's own; it does not reproduce the brief's headings. Two featured practices, GO4EXPORT - Interactive development and Export Development Program, are not placed in any group because no description of them was found.\n\nThe most direct form of support is public money that pays part of a firm's plan to go abroad. It is usually offered through an open call that sets out who may apply, which costs count and how much each project can receive.\n\n- Incentive to the Internationalisation of SMEs – Individual projects (Algarve, Portugal) gives single SMEs in the region's RIS3 sectors a non-repayable ERDF grant of up to EUR 500,000, at no more than 45% of eligible cost, for steps such as market prospecting, a digital presence, brand promotion abroad and certification.\n- Call for non-exporting and non-regularly exporting businesses (Emilia-Romagna, Italy) is aimed at firms that export rarely or not at all. The region pays 40% of the eligible costs of a two-year path built on an export plan for no more than two countries, and networks of firms may apply together.\n- SME INSTRUMENT DONOSTIA INN (San Sebastián, Spain) appears, from its name, to be a city grant line connected with the EU's Horizon 2020 SME Instrument; its details could not be confirmed.",
        "The next five sections sort the brief's featured practices by the kind of support they give. This grouping is Practice Atlas's own; it does not reproduce the brief's headings. Two featured practices, GO4EXPORT - Interactive development and Export Development Program, are not placed in any group because no description of them was found.\n\nThe most direct form of support is public money that pays part of a firm's plan to go abroad. It is usually offered through an open call that sets out who may apply, which costs count and how much each project can receive.\n\n- Incentive to the Internationalisation of SMEs – Individual projects (Algarve, Portugal) gives single SMEs in the region's RIS3 sectors a non-repayable ERDF grant of up to EUR 500,000, at no more than 45% of eligible cost, for steps such as market prospecting, a digital presence, brand promotion abroad and certification.\n- Call for non-exporting and non-regularly exporting businesses (Emilia-Romagna, Italy) is aimed at firms that export rarely or not at all. The region pays 40% of the eligible costs of a two-year path built on an export plan for no more than two countries, and networks of firms may apply together.\n- SME INSTRUMENT DONOSTIA INN (San Sebastián, Spain) appears, from its name, to be a city grant line connected with the EU's Horizon 2020 SME Instrument; its details could not be confirmed.\n- Kent International Business (England, UK): Kent County Council's initiative to help the county's SMEs into European markets; council minutes describe it as paying part of the cost of trade visits (unconfirmed: the brief only names it).",
    ),
    'integrated-programmes-and-place-promotion': (
        "Some regions and local authorities go beyond single measures: they combine their tools under one strategy, or promote their territory abroad together with local businesses.\n\n- Emilia-Romagna Go Global (ERGO) 2016 – 2020 (Italy): a multi-year umbrella programme with six lines, from information and partner agreements to open calls, joint promotion and investment attraction, with on average about EUR 10 m a year; in 2017 it co-financed 755 companies.\n- The Wakefield First Bondholder Scheme (England, UK): local firms join as 'bondholders' and work with the council to market the district at home and abroad; it was studied by COMPETE IN partners, and Reggio Emilia later took up the idea in a bondholder project.\n- Kent International Business (England, UK): an initiative of Kent County Council to help the county's SMEs into European markets, for instance by paying part of the cost of trade visits.",
        "Some regions and local authorities go beyond single measures: they combine their tools under one strategy, or promote their territory abroad together with local businesses.\n\n- Emilia-Romagna Go Global (ERGO) 2016 – 2020 (Italy): a multi-year umbrella programme with six lines, from information and partner agreements to open calls, joint promotion and investment attraction, with on average about EUR 10 m a year; in 2017 it co-financed 755 companies.\n- The Wakefield First Bondholder Scheme (England, UK): local firms join as 'bondholders' and work with the council to market the district at home and abroad; it was studied by COMPETE IN partners, and Reggio Emilia later took up the idea in a bondholder project.",
    ),
    'skills-and-peer-learning': (
        "Going international takes management know-how and people with experience abroad. Two featured practices invest in these rather than in export projects as such.\n\n- Profitnet - building SME owner capacity through peer learning.: groups of 15-20 owner-managers meet monthly for about 18 months, review each other's business plans, work through shared problems and hold each other to the actions they agree, with access to the support of a Local Enterprise Office. It builds the management capacity that firms need before they go abroad.\n- International Connecting Talent Internships (San Sebastián, Spain): the city's development agency pays for local graduates under 30 to spend six months interning abroad, so that skills and contacts flow back home; a later version of the practice reports close to 600 internships over 10 years.",
        "Going international takes management know-how and people with experience abroad. Two featured practices invest in these rather than in export projects as such.\n\n- Profitnet - building SME owner capacity through peer learning (Ireland; place unconfirmed): groups of 15-20 owner-managers meet monthly for about 18 months, review each other's business plans, work through shared problems and hold each other to the actions they agree, with access to the support of a Local Enterprise Office. It builds the management capacity that firms need before they go abroad.\n- International Connecting Talent Internships (San Sebastián, Spain): the city's development agency pays for local graduates under 30 to spend six months interning abroad, so that skills and contacts flow back home; a later version of the practice reports close to 600 internships over 10 years.",
    ),
}
# featured practice slug -> {"section" (anchor) or "note": (before, corrected)}
FEATURED = {
    'kent-international-business': {
        'note': (
            'Shows a county council helping its SMEs reach European markets by paying part of the cost of trade visits.',
            'Shows a county council helping its SMEs reach European markets, reportedly by paying part of the cost of trade visits (unconfirmed).',
        ),
        'section': (
            'integrated-programmes-and-place-promotion',
            'grants-and-co-financing',
        ),
    },
}

def correct(apps, schema_editor):
    db = schema_editor.connection.alias
    Practice = apps.get_model("practices", "Practice")
    Project = apps.get_model("practices", "Project")
    Country = apps.get_model("practices", "Country")
    Version = apps.get_model("practices", "CatalogueVersion")
    Brief = apps.get_model("briefs", "Brief")
    if not Practice.objects.using(db).exists():
        return  # a new database: the loader adds the corrected content
    for values in NEW_PROJECTS:
        Project.objects.using(db).get_or_create(slug=values["slug"], defaults=values)
    changed = set()
    for slug, fields in PRACTICES.items():
        practice = Practice.objects.using(db).filter(slug=slug).first()
        if practice is None:
            continue
        for name, change in fields.items():
            if _apply(practice, name, change, Project, Country, db):
                changed.add(practice.pk)
        practice.save()
    for slug in RETIRED_PROJECTS:
        Project.objects.using(db).filter(slug=slug, practices__isnull=True).delete()
    brief = Brief.objects.using(db).filter(slug=BRIEF).first()
    if brief is not None:
        for anchor, (before, after) in SECTIONS.items():
            brief.sections.filter(anchor=anchor, body=before).update(body=after)
        for slug, fields in FEATURED.items():
            feature = brief.featured.filter(practice__slug=slug).first()
            if feature is None:
                continue
            if "note" in fields and feature.note == fields["note"][0]:
                feature.note = fields["note"][1]
            if "section" in fields and getattr(feature.section, "anchor", None) == (
                fields["section"][0]
            ):
                feature.section = brief.sections.filter(
                    anchor=fields["section"][1]
                ).first()
            feature.save()
    # 0017 creates SQLite's full-text index later, from search_text.
    refresh_search_index(sorted(changed), model=Practice, using=db, full_text=False)
    Version.objects.using(db).filter(pk=1).update(
        number=F("number") + 1, token=uuid.uuid4(), changed_at=timezone.now()
    )


def _apply(practice, name, change, Project, Country, db):
    """Apply one correction if the stored value is still the shipped one."""
    if name == "countries":
        before, after = change
        current = sorted(practice.countries.values_list("code", flat=True))
        if current != before:
            return False
        practice.countries.set(Country.objects.using(db).filter(code__in=after))
        return True
    if name == "project":
        before, after = change
        if getattr(practice.project, "slug", None) != before:
            return False
        practice.project = Project.objects.using(db).get(slug=after)
        return True
    if name == "new_sources":  # sources that back a restored fact, at the end
        known = set(practice.sources.values_list("url", flat=True))
        position = practice.sources.count()
        for url, title in change:
            if url not in known:
                practice.sources.create(url=url, title=title, position=position)
                position += 1
        return True
    if name == "source_titles":
        done = False
        for url, before, after in change:
            done |= bool(
                practice.sources.filter(url=url, title=before).update(title=after)
            )
        return done
    before, after = change
    if getattr(practice, name) != before:
        return False
    setattr(practice, name, after)
    return True


class Migration(migrations.Migration):
    dependencies = [
        ("practices", "0010_still_running"),
        ("briefs", "0004_original_brief_date"),
    ]

    operations = [migrations.RunPython(correct, migrations.RunPython.noop)]
