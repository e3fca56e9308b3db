"""The program's results as files staff can forward: the spreadsheet (`workbook`) and the chart
(`chart`). They know no platform and no database: they are given the figures of
`models.results` and write bytes."""
