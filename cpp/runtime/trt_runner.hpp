// A small RAII runtime over the TensorRT 10/11 C++ API: named IO tensors, setInputShape,
// setTensorAddress, enqueueV3 on a CUDA stream. No binding indices, no enqueueV2, no destroy():
// every TensorRT and CUDA object is owned by a unique_ptr or a move-only wrapper, so each error
// path frees what was allocated (NVIDIA's tutorial-runtime leaks on its error returns).
#pragma once

#include <NvInferRuntime.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace trtlab::trt
{

//! A TensorRT or CUDA call failed; the message names the call, what it got and how to fix it.
class RuntimeError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

//! Prints TensorRT messages at or above a severity to stderr and keeps the last error.
class Logger : public nvinfer1::ILogger
{
public:
    explicit Logger(Severity minimum = Severity::kWARNING) noexcept;
    void log(Severity severity, char const* message) noexcept override;
    std::string const& lastError() const noexcept;

private:
    Severity mMinimum;
    std::string mLastError;
};

//! Throws RuntimeError("<what>: <cudaGetErrorString>") unless status is cudaSuccess.
void checkCuda(cudaError_t status, char const* what);

//! Device memory owned by this object (cudaMalloc / cudaFree), move-only.
class DeviceBuffer
{
public:
    DeviceBuffer() = default;
    explicit DeviceBuffer(std::size_t bytes);
    ~DeviceBuffer();
    DeviceBuffer(DeviceBuffer&& other) noexcept;
    DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
    DeviceBuffer(DeviceBuffer const&) = delete;
    DeviceBuffer& operator=(DeviceBuffer const&) = delete;
    void* get() const noexcept { return mPtr; }
    std::size_t bytes() const noexcept { return mBytes; }

private:
    void* mPtr{nullptr};
    std::size_t mBytes{0};
};

//! A CUDA stream owned by this object, move-only.
class CudaStream
{
public:
    CudaStream();
    ~CudaStream();
    CudaStream(CudaStream const&) = delete;
    CudaStream& operator=(CudaStream const&) = delete;
    cudaStream_t get() const noexcept { return mStream; }
    void synchronize() const;

private:
    cudaStream_t mStream{nullptr};
};

//! Bytes per element of a TensorRT data type; throws for packed FP4/INT4 (no byte size).
std::size_t elementSize(nvinfer1::DataType type);
char const* dataTypeName(nvinfer1::DataType type);
std::int64_t volume(nvinfer1::Dims const& dims);
std::string dimsString(nvinfer1::Dims const& dims);
nvinfer1::Dims makeDims(std::vector<std::int64_t> const& values);

//! One named IO tensor as the engine reports it (-1 marks dynamic dims).
struct TensorInfo
{
    std::string name;
    bool isInput{false};
    nvinfer1::DataType type{nvinfer1::DataType::kFLOAT};
    nvinfer1::Dims shape{};
};

//! Host copy of one tensor: shape, type and bytes.
struct HostTensor
{
    std::string name;
    nvinfer1::DataType type{nvinfer1::DataType::kFLOAT};
    nvinfer1::Dims shape{};
    std::vector<std::uint8_t> data;
};

//! A deserialized engine with one execution context, a stream, and reusable device buffers.
class EngineRunner
{
public:
    EngineRunner(std::string const& enginePath, Logger& logger);
    ~EngineRunner();
    EngineRunner(EngineRunner const&) = delete;
    EngineRunner& operator=(EngineRunner const&) = delete;

    std::vector<TensorInfo> const& tensors() const noexcept { return mTensors; }
    TensorInfo const& tensor(std::string const& name) const;
    //! The only input (throws if the engine has several: name them with tensor()).
    TensorInfo const& singleInput() const;

    //! Checks ``shape`` against optimization profile 0 first, so the error names the range.
    void setInputShape(std::string const& name, nvinfer1::Dims const& shape);

    //! Copies the inputs in, runs enqueueV3, copies every output out, waits for the stream.
    std::vector<HostTensor> infer(std::vector<HostTensor> const& inputs);

private:
    DeviceBuffer& deviceBuffer(std::string const& name, std::size_t bytes);

    Logger& mLogger;
    std::unique_ptr<nvinfer1::IRuntime> mRuntime;
    std::unique_ptr<nvinfer1::ICudaEngine> mEngine;
    std::unique_ptr<nvinfer1::IExecutionContext> mContext;
    std::unique_ptr<CudaStream> mStream;  // made after the engine loads: file errors come first
    std::vector<TensorInfo> mTensors;
    std::vector<std::pair<std::string, DeviceBuffer>> mBuffers;
};

} // namespace trtlab::trt
