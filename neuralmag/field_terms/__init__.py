"""Field terms: one physics term per file, each reading like its energy."""

from neuralmag.field_terms.anisotropy import CubicAnisotropyField, UniaxialAnisotropyField
from neuralmag.field_terms.demag import DemagField
from neuralmag.field_terms.dmi import BulkDMIField, D2dDMIField, InterfaceDMIField, LifshitzInvariantField
from neuralmag.field_terms.exchange import ExchangeField
from neuralmag.field_terms.external import ExternalField
from neuralmag.field_terms.field_term import FieldTerm
from neuralmag.field_terms.interlayer import InterlayerExchangeField
from neuralmag.field_terms.oersted import OerstedField
from neuralmag.field_terms.thermal import ThermalField
from neuralmag.field_terms.torques import SlonczewskiTorque, ZhangLiTorque
from neuralmag.field_terms.total import TotalField
from neuralmag.field_terms.unet_demag import UNetDemagField

__all__ = [
    "FieldTerm", "ExchangeField", "ExternalField", "UniaxialAnisotropyField", "CubicAnisotropyField",
    "DemagField", "LifshitzInvariantField", "InterfaceDMIField", "BulkDMIField", "D2dDMIField", "TotalField",
    "ZhangLiTorque", "SlonczewskiTorque", "InterlayerExchangeField", "OerstedField", "ThermalField",
    "UNetDemagField",
]
