// trtlab_classify: a minimal image classifier on a TensorRT engine (e.g. trtlab's ResNet-50).
//
//   trtlab_classify ENGINE INPUT.ppm [TOPK]
//
// The PPM must already be the network's input size (e.g. 224x224: resize/crop as trtlab's
// preprocess_imagenet does, then save as PPM). Prints the top-k classes with softmax probability.
#include "trt_runner.hpp"
#include "trtlab/imgutil.hpp"

#include <cstring>
#include <iostream>
#include <string>

int main(int argc, char** argv)
{
    if (argc < 3 || argc > 4)
    {
        std::cerr << "usage: " << argv[0] << " ENGINE INPUT.ppm [TOPK]\n";
        return 2;
    }
    try
    {
        int const k = argc == 4 ? std::stoi(argv[3]) : 5;
        trtlab::trt::Logger logger;
        trtlab::trt::EngineRunner runner(argv[1], logger);
        auto const& input = runner.singleInput();
        trtlab::img::Image const image = trtlab::img::readPnm(argv[2]);
        auto const chw = trtlab::img::toChwNormalized(image, trtlab::img::kImagenetMean, trtlab::img::kImagenetStd);

        trtlab::trt::HostTensor in;
        in.name = input.name;
        in.type = nvinfer1::DataType::kFLOAT;
        in.shape = trtlab::trt::makeDims({1, 3, image.height, image.width});
        in.data.resize(chw.size() * sizeof(float));
        std::memcpy(in.data.data(), chw.data(), in.data.size());

        auto const outputs = runner.infer({in});
        auto const& logits = outputs.front();
        if (logits.type != nvinfer1::DataType::kFLOAT || logits.shape.nbDims != 2)
        {
            throw trtlab::trt::RuntimeError("output '" + logits.name + "' "
                + trtlab::trt::dimsString(logits.shape) + " " + trtlab::trt::dataTypeName(logits.type)
                + ": expected float logits [1, classes]");
        }
        int const classes = static_cast<int>(logits.shape.d[1]);
        std::vector<float> values(static_cast<std::size_t>(classes));
        std::memcpy(values.data(), logits.data.data(), values.size() * sizeof(float));
        std::cout << "backend=tensorrt-cpp engine=" << argv[1] << " " << input.name << " "
                  << trtlab::trt::dimsString(in.shape) << "\n";
        for (auto const& [id, prob] : trtlab::img::topK(values.data(), classes, k))
        {
            std::cout << "class " << id << " p=" << prob << "\n";
        }
        return 0;
    }
    catch (std::exception const& e)
    {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
