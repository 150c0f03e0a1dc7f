package app

import "io"

// NewCSVWriterForTest exposes the export's CSV record writer to the tests.
func NewCSVWriterForTest(w io.Writer) func([]string) error {
	return func(fields []string) error {
		_, err := w.Write(appendCSV(nil, fields))
		return err
	}
}
