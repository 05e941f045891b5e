//! Units a recipe from brewing software may be written in, converted to the ones [`super::recipe::Recipe`]
//! holds; an unknown unit is an error naming it, not a guess.

use super::FormatError;
use super::recipe::tidy;

pub struct Units;

fn unknown(kind: &str, unit: &str) -> FormatError {
    FormatError::new(format!("unknown {kind} unit `{unit}`"))
}

impl Units {
    pub fn kilograms(&self, unit: &str, value: f64) -> Result<f64, FormatError> {
        let factor = match unit {
            "kg" => 1.0,
            "g" => 0.001,
            "mg" => 0.000_001,
            "lb" => 0.453_592_37,
            "oz" => 0.028_349_523_125,
            // Hops are sometimes given by volume (an extract): taken as grams, the usual hop unit.
            "ml" => 0.001,
            _ => return Err(unknown("weight", unit)),
        };
        Ok(tidy(value * factor))
    }

    pub fn litres(&self, unit: &str, value: f64) -> Result<f64, FormatError> {
        let factor = match unit {
            "l" => 1.0,
            "ml" => 0.001,
            "gal" => 3.785_411_784,
            "igal" => 4.546_09,
            "qt" => 0.946_352_946,
            "bbl" => 117.347_765_304,
            _ => return Err(unknown("volume", unit)),
        };
        Ok(tidy(value * factor))
    }

    pub fn celsius(&self, unit: &str, value: f64) -> Result<f64, FormatError> {
        match unit {
            "C" => Ok(value),
            "F" => Ok(tidy((value - 32.0) * 5.0 / 9.0)),
            _ => Err(unknown("temperature", unit)),
        }
    }

    pub fn minutes(&self, unit: &str, value: i64) -> Result<i64, FormatError> {
        let factor = match unit {
            "min" => 1,
            "hr" => 60,
            "day" => 60 * 24,
            "week" => 60 * 24 * 7,
            "sec" => return Ok(value / 60),
            _ => return Err(unknown("time", unit)),
        };
        Ok(value * factor)
    }

    pub fn specific_gravity(&self, unit: &str, value: f64) -> Result<f64, FormatError> {
        match unit {
            "sg" => Ok(value),
            // The usual approximation (ASBC): SG = 1 + P / (258.6 - 0.88 P) for Plato, and Brix read as Plato.
            "plato" | "brix" => Ok(tidy(1.0 + value / (258.6 - 0.88 * value))),
            _ => Err(unknown("gravity", unit)),
        }
    }

    pub fn ebc(&self, unit: &str, value: f64) -> Result<f64, FormatError> {
        match unit {
            "EBC" => Ok(value),
            "SRM" => Ok(tidy(value * 1.97)),
            "Lovi" => Ok(tidy((1.3546 * value - 0.76) * 1.97)),
            _ => Err(unknown("colour", unit)),
        }
    }
}
