"""Forms of the public verification page."""

from __future__ import annotations

from django import forms
from django.core.files.uploadedfile import UploadedFile

from moyai.documents.rules import SERIAL_EXAMPLE
from moyai.documents.selectors import MAX_UPLOAD_BYTES


class SerialForm(forms.Form):
    serial = forms.CharField(
        label="証明書番号",
        max_length=40,
        help_text=f"証明書の右上に印字された番号（例: {SERIAL_EXAMPLE}）",
    )


class UploadForm(forms.Form):
    file = forms.FileField(
        label="証明書の PDF ファイル",
        help_text=(
            "電子ファイルで受け取った証明書（10MB まで）。ファイルは照合にだけ使い、保存しません。"
        ),
    )

    def clean_file(self) -> UploadedFile[bytes]:
        upload: UploadedFile[bytes] = self.cleaned_data["file"]
        if (upload.size or 0) > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("ファイルが大きすぎます（10MB まで）")
        return upload
