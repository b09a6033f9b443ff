module github.com/gradus-ml/gradus

go 1.26
