"""Schemathesis hooks for scripts/api-fuzz.sh (loaded through SCHEMATHESIS_HOOKS).

The image upload's body is documented as `format: binary` under image/png, image/jpeg, image/webp and
application/octet-stream: any bytes fit that schema, but the service rightly accepts only a real image within its
limits. So valid cases are drawn as real images: small PNG, JPEG and WebP files of random size and pixels, made with
Pillow. Every check then runs on the upload too (no expected-status exception for valid data).
"""

import io

import schemathesis
from hypothesis import strategies as st
from PIL import Image

FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}


def encode(image_format, width, height, seed):
    pixels = bytes((seed + i * 31) % 256 for i in range(width * height * 3))
    image = Image.frombytes("RGB", (width, height), pixels)
    buffer = io.BytesIO()
    image.save(buffer, format=image_format)
    return buffer.getvalue()


def images(formats):
    return st.builds(
        encode,
        st.sampled_from(formats),
        st.integers(min_value=1, max_value=48),
        st.integers(min_value=1, max_value=48),
        st.integers(min_value=0, max_value=255),
    )


for media_type, image_format in FORMATS.items():
    schemathesis.openapi.media_type(media_type, images([image_format]))
# The type is judged by content, so an octet stream may be any of the three.
schemathesis.openapi.media_type("application/octet-stream", images(list(FORMATS.values())))
