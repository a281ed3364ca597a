"""Small watchlist files for the tests (the real OFAC file is read in place: tests/screening/conftest.py)."""

from __future__ import annotations

SDN = (
    b'100,"AL-ZOMOR, Abboud Abdul Latif Hassan","individual","SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
    b"\"DOB 19 Apr 1947; POB Nahia, Giza, Egypt; nationality Egypt; a.k.a. 'ZUMAR, Abbud'.\"\r\n"
    b'101,"PETROV, Ivan Sergeyevich","individual","RUSSIA-EO14024",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
    b'"DOB 1970; nationality Russia."\r\n'
    b'102,"ACME TRADING LLC",-0- ,"SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n'
    b"\x1a"
)
ALT = b'100,200,"aka","AL-ZUMAR, Abboud",-0- \r\n'

UN_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2024-05-03T00:00:00">
  <INDIVIDUALS>
    <INDIVIDUAL>
      <DATAID>6908555</DATAID>
      <FIRST_NAME>RI</FIRST_NAME>
      <SECOND_NAME>WON HO</SECOND_NAME>
      <UN_LIST_TYPE>DPRK</UN_LIST_TYPE>
      <NATIONALITY><VALUE>Democratic People's Republic of Korea</VALUE></NATIONALITY>
      <INDIVIDUAL_ALIAS><QUALITY>Good</QUALITY><ALIAS_NAME>Ri Won-ho</ALIAS_NAME></INDIVIDUAL_ALIAS>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><DATE>1964-07-17</DATE></INDIVIDUAL_DATE_OF_BIRTH>
    </INDIVIDUAL>
    <INDIVIDUAL>
      <DATAID>110</DATAID>
      <FIRST_NAME>ABDUL</FIRST_NAME>
      <SECOND_NAME>BASIR</SECOND_NAME>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>BETWEEN</TYPE_OF_DATE><FROM_YEAR>1960</FROM_YEAR><TO_YEAR>1962</TO_YEAR></INDIVIDUAL_DATE_OF_BIRTH>
      <INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>APPROXIMATELY</TYPE_OF_DATE><YEAR>1958</YEAR></INDIVIDUAL_DATE_OF_BIRTH>
    </INDIVIDUAL>
  </INDIVIDUALS>
  <ENTITIES>
    <ENTITY>
      <DATAID>7</DATAID>
      <FIRST_NAME>AL-QAIDA</FIRST_NAME>
      <ENTITY_ALIAS><ALIAS_NAME>The Base</ALIAS_NAME></ENTITY_ALIAS>
    </ENTITY>
  </ENTITIES>
</CONSOLIDATED_LIST>
"""

SIMPLE_CSV = (
    "id,name,aliases,date_of_birth,country,list,type\n"
    "p1,Jörg Müller,Joerg Mueller;George Miller,1961-03-04,DE,Local PEPs,individual\n"
    "p2,Anna Kowalska,,1975,Poland,Local PEPs,individual\n"
    "x1,Blue Ocean Shipping,,,,Operator blocklist,entity\n"
).encode()
